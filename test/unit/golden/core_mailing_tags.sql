CREATE TABLE ak_sumofus.core_mailing_tags (
  id integer NOT NULL,
  mailing_id integer NOT NULL,
  tag_id integer NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (tag_id) REFERENCES ak_sumofus.core_tag (id)
)
DISTSTYLE KEY
DISTKEY (mailing_id)
INTERLEAVED SORTKEY (id, mailing_id, tag_id);
