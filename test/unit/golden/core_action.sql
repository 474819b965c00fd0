CREATE TABLE ak_sumofus.core_action (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  user_id integer NOT NULL,
  mailing_id integer DEFAULT NULL,
  page_id integer NOT NULL,
  link integer,
  source varchar(765) NOT NULL,
  opq_id varchar(765) NOT NULL,
  created_user smallint NOT NULL,
  subscribed_user smallint NOT NULL,
  referring_user_id integer DEFAULT NULL,
  referring_mailing_id integer DEFAULT NULL,
  taf_emails_sent integer DEFAULT NULL,
  status varchar(765) NOT NULL,
  is_forwarded smallint DEFAULT 0 NOT NULL,
  ip_address varchar(45),
  PRIMARY KEY (id),
  FOREIGN KEY (mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (page_id) REFERENCES ak_sumofus.core_page (id),
  FOREIGN KEY (referring_mailing_id) REFERENCES ak_sumofus.core_mailing (id),
  FOREIGN KEY (referring_user_id) REFERENCES ak_sumofus.core_user (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (id)
INTERLEAVED SORTKEY (id, created_at, user_id, page_id, mailing_id, created_user, source);
