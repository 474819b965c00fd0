CREATE TABLE ak_sumofus.core_transaction (
  id integer NOT NULL,
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  type varchar(765) NOT NULL,
  order_id integer NOT NULL,
  account varchar(765) NOT NULL,
  test_mode smallint,
  amount numeric(10,2) NOT NULL,
  amount_converted numeric(10,2) DEFAULT '0.00' NOT NULL,
  success smallint NOT NULL,
  status varchar(765) NOT NULL,
  trans_id varchar(765) DEFAULT NULL,
  failure_description varchar(65535),
  failure_code varchar(765) DEFAULT NULL,
  failure_message varchar(65535),
  currency varchar(9) DEFAULT 'USD' NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (order_id) REFERENCES ak_sumofus.core_order (id)
)
DISTSTYLE KEY
DISTKEY (order_id)
INTERLEAVED SORTKEY (id, created_at, order_id, type, account, amount_converted, status);
