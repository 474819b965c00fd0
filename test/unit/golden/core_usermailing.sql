CREATE TABLE ak_sumofus.core_usermailing (
  id bigint NOT NULL,
  mailing_id integer NOT NULL,
  user_id integer NOT NULL,
  subject_id integer DEFAULT NULL,
  created_at timestamp NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (user_id, mailing_id, created_at, id);
