CREATE TABLE ak_sumofus.core_tag (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  hidden smallint NOT NULL,
  name varchar(765) NOT NULL,
  times_used integer DEFAULT NULL,
  order_index integer NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (name)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, name);
