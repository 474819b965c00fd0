CREATE TABLE ak_sumofus.core_page_tags (
  id integer NOT NULL,
  page_id integer NOT NULL,
  tag_id integer NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (id),
  FOREIGN KEY (tag_id) REFERENCES ak_sumofus.core_tag (id)
)
DISTSTYLE KEY
DISTKEY (page_id)
INTERLEAVED SORTKEY (id, page_id, tag_id);
