CREATE TABLE ak_sumofus.core_orderrecurring (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  order_id integer NOT NULL,
  action_id integer NOT NULL,
  exp_date varchar(18) NOT NULL,
  card_num varchar(12) NOT NULL,
  recurring_id varchar(765) DEFAULT NULL,
  account varchar(765) DEFAULT NULL,
  user_id integer NOT NULL,
  start date NOT NULL,
  occurrences integer,
  period varchar(765),
  amount numeric(10,2) NOT NULL,
  currency varchar(9) DEFAULT 'USD' NOT NULL,
  amount_converted numeric(10,2) DEFAULT '0.00' NOT NULL,
  status varchar(765) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (action_id),
  FOREIGN KEY (action_id) REFERENCES ak_sumofus.core_action (id),
  FOREIGN KEY (order_id) REFERENCES ak_sumofus.core_order (id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (order_id)
INTERLEAVED SORTKEY (id, order_id, action_id, user_id, created_at, amount_converted, status, account);
