CREATE TABLE ak_sumofus.core_user (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  email varchar(765) NOT NULL,
  prefix varchar(765),
  first_name varchar(765) NOT NULL,
  middle_name varchar(765) DEFAULT '' NOT NULL,
  last_name varchar(765) NOT NULL,
  suffix varchar(765),
  password varchar(765),
  subscription_status varchar(765) NOT NULL,
  address1 varchar(765) NOT NULL,
  address2 varchar(765) NOT NULL,
  city varchar(765) NOT NULL,
  state varchar(765) NOT NULL,
  region varchar(765) NOT NULL,
  postal varchar(765) NOT NULL,
  zip varchar(15) NOT NULL,
  plus4 varchar(12),
  country varchar(765) NOT NULL,
  source varchar(765) NOT NULL,
  lang_id integer DEFAULT NULL,
  rand_id integer NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (email)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, email, created_at, country, lang_id, subscription_status);
