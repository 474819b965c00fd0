CREATE TABLE ak_sumofus.core_subscriptionhistory (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  user_id integer NOT NULL,
  list_id integer NOT NULL,
  change_id integer NOT NULL,
  action_id integer DEFAULT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (action_id) REFERENCES ak_sumofus.core_action (id),
  FOREIGN KEY (list_id) REFERENCES ak_sumofus.core_list (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (id, user_id, created_at, list_id, change_id, action_id);
