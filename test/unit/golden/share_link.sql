CREATE TABLE ak_sumofus.share_link (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  page_id integer NOT NULL,
  type varchar(6) NOT NULL,
  user_id integer DEFAULT NULL,
  action_id integer DEFAULT NULL,
  referring_share_id integer DEFAULT NULL,
  generation integer NOT NULL,
  source varchar(765) DEFAULT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (action_id) REFERENCES ak_sumofus.core_action (id),
  FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (id),
  FOREIGN KEY (referring_share_id) REFERENCES ak_sumofus.share_link (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (action_id, created_at, page_id, user_id, referring_share_id);
