CREATE TABLE ak_sumofus.core_list (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  hidden smallint NOT NULL,
  name varchar(765) NOT NULL,
  notes varchar(765),
  is_default smallint NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (name)
)
DISTSTYLE KEY
DISTKEY (id)
COMPOUND SORTKEY (id);
