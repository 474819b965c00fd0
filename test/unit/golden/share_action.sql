CREATE TABLE ak_sumofus.share_action (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  share_id integer NOT NULL,
  action_id integer NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (action_id),
  FOREIGN KEY (action_id) REFERENCES ak_sumofus.core_action (id),
  FOREIGN KEY (share_id) REFERENCES ak_sumofus.share_link (id)
)
DISTSTYLE KEY
DISTKEY (action_id)
INTERLEAVED SORTKEY (id, action_id, share_id, created_at);
