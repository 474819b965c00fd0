CREATE TABLE ak_sumofus.core_useragent (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  useragent_string varchar(65535) DEFAULT '' NOT NULL,
  hash varchar(192) NOT NULL,
  browser varchar(765) NOT NULL,
  browser_version varchar(90),
  os varchar(765) NOT NULL,
  os_version varchar(90) NOT NULL,
  device varchar(765) NOT NULL,
  is_mobile smallint NOT NULL,
  is_phone smallint NOT NULL,
  is_tablet smallint NOT NULL,
  is_desktop smallint NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (hash)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (is_mobile, is_phone, is_tablet, is_desktop, browser, device);
