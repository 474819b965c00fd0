CREATE TABLE ak_sumofus.core_clickurl (
  id integer NOT NULL,
  url varchar(765) NOT NULL,
  page_id integer DEFAULT NULL,
  created_at timestamp NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (url),
  FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (id)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, page_id, url);
