CREATE TABLE ak_sumofus.share_click (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  share_id integer NOT NULL,
  page_id integer NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (id),
  FOREIGN KEY (share_id) REFERENCES ak_sumofus.share_link (id)
)
DISTSTYLE KEY
DISTKEY (share_id)
INTERLEAVED SORTKEY (id, share_id, page_id, created_at);
