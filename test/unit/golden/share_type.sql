CREATE TABLE ak_sumofus.share_type (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  type varchar(6) NOT NULL,
  name varchar(765) NOT NULL,
  PRIMARY KEY (id)
)
DISTSTYLE KEY
DISTKEY (id)
COMPOUND SORTKEY (id);
