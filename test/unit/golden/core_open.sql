CREATE TABLE ak_sumofus.core_open (
  id bigint NOT NULL,
  user_id integer DEFAULT NULL,
  mailing_id integer DEFAULT NULL,
  created_at timestamp NOT NULL,
  useragent_id integer DEFAULT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id),
  FOREIGN KEY (mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (useragent_id) REFERENCES ak_sumofus.core_useragent (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (user_id, mailing_id);
