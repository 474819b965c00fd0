CREATE TABLE ak_sumofus.core_order (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  action_id integer NOT NULL,
  user_id integer NOT NULL,
  user_detail_id integer,
  card_num_last_four varchar(12) NOT NULL,
  shipping_address_id integer,
  total numeric(10,2) NOT NULL,
  currency varchar(9) DEFAULT 'USD' NOT NULL,
  total_converted numeric(10,2) DEFAULT '0.00' NOT NULL,
  status varchar(765) NOT NULL,
  import_id varchar(96) DEFAULT NULL,
  account varchar(765) DEFAULT NULL,
  payment_method varchar(765),
  PRIMARY KEY (id),
  UNIQUE (action_id),
  FOREIGN KEY (action_id) REFERENCES ak_sumofus.core_action (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (id)
COMPOUND SORTKEY (id, action_id, user_id, total_converted, status, account);
