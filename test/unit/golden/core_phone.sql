CREATE TABLE ak_sumofus.core_phone (
  id integer NOT NULL,
  created_at timestamp,
  updated_at timestamp,
  user_id integer NOT NULL,
  type varchar(75),
  phone varchar(75) NOT NULL,
  source varchar(75) NOT NULL,
  normalized_phone varchar(75) NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (id, user_id);
