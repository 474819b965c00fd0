CREATE TABLE ak_sumofus.core_click (
  id bigint NOT NULL,
  clickurl_id integer NOT NULL,
  user_id integer DEFAULT NULL,
  mailing_id integer DEFAULT NULL,
  link_number integer DEFAULT NULL,
  source varchar(765) DEFAULT NULL,
  referring_user_id integer DEFAULT NULL,
  created_at timestamp NOT NULL,
  useragent_id integer DEFAULT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (clickurl_id) REFERENCES ak_sumofus.core_clickurl (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id),
  FOREIGN KEY (mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (useragent_id) REFERENCES ak_sumofus.core_useragent (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (clickurl_id, user_id, mailing_id);
