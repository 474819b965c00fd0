CREATE TABLE ak_sumofus.core_location (
  created_at timestamp NOT NULL,
  updated_at timestamp NOT NULL,
  user_id integer NOT NULL,
  us_district varchar(15) NOT NULL,
  us_state_senate varchar(18) NOT NULL,
  us_state_district varchar(18) NOT NULL,
  us_county varchar(765) NOT NULL,
  loc_code varchar(90) NOT NULL,
  country_code varchar(6) NOT NULL,
  region_code varchar(60) NOT NULL,
  longitude double precision DEFAULT NULL,
  latitude double precision DEFAULT NULL,
  lat_lon_precision varchar(96) NOT NULL,
  PRIMARY KEY (user_id),
  FOREIGN KEY (user_id) REFERENCES ak_sumofus.core_user (id)
)
DISTSTYLE KEY
DISTKEY (user_id)
INTERLEAVED SORTKEY (user_id, us_district, loc_code);
