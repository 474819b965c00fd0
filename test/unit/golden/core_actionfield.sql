CREATE TABLE ak_sumofus.core_actionfield (
  id integer NOT NULL,
  parent_id integer NOT NULL,
  name varchar(765) DEFAULT '' NOT NULL,
  value varchar(65535) DEFAULT '' NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (parent_id) REFERENCES ak_sumofus.core_action (id)
)
DISTSTYLE KEY
DISTKEY (parent_id)
COMPOUND SORTKEY (name, value, id);
