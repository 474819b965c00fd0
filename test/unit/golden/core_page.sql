CREATE TABLE ak_sumofus.core_page (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  hidden smallint NOT NULL,
  title varchar(765) NOT NULL,
  name varchar(765) NOT NULL,
  notes varchar(765) DEFAULT '''',
  hosted_with_id integer NOT NULL,
  url varchar(765) NOT NULL,
  type varchar(765) NOT NULL,
  lang_id integer DEFAULT NULL,
  multilingual_campaign_id integer DEFAULT NULL,
  goal integer,
  goal_type varchar(765),
  status varchar(765) NOT NULL,
  list_id integer NOT NULL,
  allow_multiple_responses smallint NOT NULL,
  recognize varchar(765) NOT NULL,
  never_spam_check smallint,
  real_actions smallint NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (name),
  FOREIGN KEY (list_id) REFERENCES ak_sumofus.core_list (id)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, created_at, lang_id, type, title);
