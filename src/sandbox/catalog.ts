/**
 * The sandbox's own catalog, created in the schema `redshift_sandbox` of the backing database:
 *
 * - metadata Redshift keeps and PostgreSQL has no place for — distribution style/key, sort style/key, column encodings,
 *   ENCODE AUTO, BACKUP, and the informational PRIMARY KEY / UNIQUE / FOREIGN KEY constraints — keyed by table OID and
 *   attnum, so RENAME TABLE / RENAME COLUMN carry it along and DROP TABLE removes it;
 * - the functions the translator's steps call to record and change that metadata (with Redshift's checks, raising
 *   Redshift-style errors inside the statement's transaction, so a failing batch rolls the metadata back too);
 * - Redshift's functions that PostgreSQL lacks (getdate(), sysdate, nvl, len);
 * - the catalog views the bot reads, with Redshift's column names and spellings: pg_table_def, svv_table_info (no row
 *   for an empty table, as on Redshift; unsorted / stats_off / rows marked deleted from the tableHealth fault knob),
 *   svv_interleaved_columns (skew from the same knob), stv_partitions (capacity from the diskCapacityMb fault knob), plus
 *   svv_sandbox_constraints (sandbox-only, for tests). Redshift's pg_class_info is not provided: the catalog reader
 *   treats its absence as "distribution of an empty table unknown", which its tests rely on.
 *
 * Visibility as on Redshift: stv_partitions and svv_table_info are superuser-only (a session of the `regular`
 * catalogUser fault knob sees no rows in them unless `catalogGrants` names them), and a Serverless session (a Data API
 * statement sent with WorkgroupName) has no stv_partitions at all: `relation "stv_partitions" does not exist`.
 *
 * Every Data API session has `redshift_sandbox` at the end of its search_path, so unqualified `pg_table_def`,
 * `getdate()` … resolve as on Redshift.
 */
import { type DbSession, DbError } from './db.js';
import { DEFAULT_SEARCH_PATH, SANDBOX_SCHEMA as S } from './translate.js';


/** Capacity stv_partitions reports when no fault knob says otherwise: 1 TB in 1 MB blocks. */
export const DEFAULT_DISK_CAPACITY_MB = 1_000_000;

/** Bump when the bootstrap changes in a way that needs the views/functions recreated. */
export const CATALOG_VERSION = 4;

const TABLES = `
create schema if not exists ${S};

create table if not exists ${S}.table_meta (
  table_oid oid primary key,
  diststyle text not null default 'AUTO' check (diststyle in ('AUTO', 'EVEN', 'KEY', 'ALL')),
  distkey_attnum int2,
  sortstyle text not null default 'AUTO' check (sortstyle in ('AUTO', 'NONE', 'COMPOUND', 'INTERLEAVED')),
  encode_auto boolean not null default true,
  backup boolean not null default true,
  created_at timestamp not null default (now() at time zone 'UTC')
);

create table if not exists ${S}.column_meta (
  table_oid oid not null,
  attnum int2 not null,
  encoding text,
  sortkey_pos int2,
  primary key (table_oid, attnum)
);

-- names of 64 to 127 bytes (long-names.ts): PostgreSQL holds the alias, Redshift's views show the name
create table if not exists ${S}.long_names (
  alias text primary key,
  name text not null
);

create table if not exists ${S}.constraint_meta (
  table_oid oid not null,
  name text not null,
  kind char(1) not null check (kind in ('p', 'u', 'f')),
  attnums int2[] not null,
  ref_oid oid,
  ref_schema text,
  ref_table text,
  ref_columns text[],
  primary key (table_oid, name)
);
`;

const FUNCTIONS = `
create or replace function ${S}.getdate() returns timestamp language sql stable as
$$ select date_trunc('second', statement_timestamp()::timestamp) $$;

create or replace function ${S}.sysdate() returns timestamp language sql stable as
$$ select now()::timestamp $$;

create or replace function ${S}.nvl(anycompatible, anycompatible) returns anycompatible language sql immutable as
$$ select coalesce($1, $2) $$;

create or replace function ${S}.len(text) returns integer language sql immutable as
$$ select length($1) $$;

-- Redshift's FNV_HASH(value) → bigint, for copy checksums. Not the same bits as Redshift's 64-bit FNV-1a, but the same
-- contract: a deterministic hash of the value's text form, equal for equal values of the same type. PostgreSQL's own
-- 64-bit text hash: about 3× faster than md5 → hex → bit(64), which made verifying a 1 M-row copy take minutes.
create or replace function ${S}.fnv_hash(text) returns bigint language sql immutable strict as
$$ select hashtextextended($1, 0) $$;
create or replace function ${S}.fnv_hash(anyelement) returns bigint language sql immutable strict as
$$ select hashtextextended($1::text, 0) $$;

-- Redshift's system-view visibility, from the session (resetSession): STV tables do not exist on Serverless; a
-- superuser-only view shows a regular user no rows unless the user was granted SELECT on it
create or replace function ${S}._system_view_visible(view_name text) returns boolean language plpgsql stable as $$
begin
  if view_name like 'stv\\_%' and current_setting('${S}.serverless', true) = 'on' then
    raise exception 'relation "%" does not exist', view_name using errcode = '42P01';
  end if;
  return coalesce(current_setting('${S}.superuser', true), '') <> 'off'
    or view_name = any(string_to_array(coalesce(current_setting('${S}.grants', true), ''), ','));
end $$;

-- Redshift's STRTOL(num_string, base) → bigint (the source comparison's row hashes: STRTOL(SUBSTRING(MD5(…),1,8),16)).
-- Documented behaviour: leading blanks, one optional sign, '0x' allowed in base 16, '' → 0, NULL → NULL, base 2–36;
-- parsing stops at the first character that is not a digit of the base (C strtol). Hex of up to 15 digits (every call
-- the bot makes) takes the fast path through bit(64).
create or replace function ${S}._strtol_slow(s text, base integer) returns bigint language plpgsql immutable strict as $$
declare
  t text := ltrim(s, E' \t\n\r\f\v');
  neg boolean := false;
  r numeric := 0;
  d integer;
  c text;
begin
  if base < 2 or base > 36 then raise exception 'STRTOL: base must be an INTEGER between 2 and 36'; end if;
  if left(t, 1) in ('+', '-') then neg := left(t, 1) = '-'; t := substr(t, 2); end if;
  if base = 16 and lower(left(t, 2)) = '0x' then t := substr(t, 3); end if;
  foreach c in array regexp_split_to_array(lower(t), '') loop
    d := strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1;
    exit when d < 0 or d >= base;
    r := r * base + d;
  end loop;
  if neg then r := -r; end if;
  if r > 9223372036854775807 or r < -9223372036854775808 then raise exception 'STRTOL: the value is out of the signed 64-bit range'; end if;
  return r::bigint;
end $$;
create or replace function ${S}.strtol(text, integer) returns bigint language sql immutable strict as
$$ select case when $2 = 16 and $1 ~ '^[0-9a-fA-F]{1,15}$' then ('x' || lpad($1, 16, '0'))::bit(64)::bigint
               else ${S}._strtol_slow($1, $2) end $$;

create or replace function ${S}._disk_capacity_mb() returns bigint language sql stable as
$$ select coalesce(nullif(current_setting('${S}.disk_capacity_mb', true), '')::bigint, ${DEFAULT_DISK_CAPACITY_MB}) $$;

-- the tableHealth fault knob of one table ('{}' when none is seeded): unsorted, statsOff, deletedRows, interleavedSkew, skewRows
create or replace function ${S}._table_health(schema_name text, table_name text) returns jsonb language sql stable as
$$ select coalesce(coalesce(nullif(current_setting('${S}.table_health', true), ''), '{}')::jsonb -> (schema_name || '.' || table_name), '{}'::jsonb) $$;

-- a table's row count from metadata, as Redshift's svv_table_info reads it (STV_TBL_PERM), never a scan of the table:
-- PostgreSQL's statistics (n_live_tup, updated as transactions commit, read without any lock on the table)
create or replace function ${S}._row_count(rel oid) returns bigint language sql stable as
$$ select greatest(pg_stat_get_live_tuples(rel), 0)::bigint $$;

-- a table's size in MB without waiting behind a table lock (a swap in progress): pg_total_relation_size opens the
-- table; when another session holds it locked, the pages the catalog last recorded stand in (Redshift reads its block
-- counts from metadata)
create or replace function ${S}._size_mb(rel oid) returns bigint language plpgsql volatile as $$
declare
  n bigint;
  old text := current_setting('lock_timeout');
begin
  perform set_config('lock_timeout', '50ms', true);
  begin
    n := pg_total_relation_size(rel);
  exception when lock_not_available or undefined_table then
    select greatest(relpages, 0)::bigint * current_setting('block_size')::bigint into n from pg_class where oid = rel;
  end;
  perform set_config('lock_timeout', old, true);
  return ceil(n / 1048576.0)::bigint;
end $$;

create or replace function ${S}._attnum(rel regclass, col text, what text) returns int2 language plpgsql stable as $$
declare n int2;
begin
  select attnum into n from pg_attribute where attrelid = rel and attname = col and attnum > 0 and not attisdropped;
  if n is null then
    raise exception 'column "%" named in % does not exist', col, what using errcode = '42703';
  end if;
  return n;
end $$;

create or replace function ${S}._ensure(rel regclass) returns void language sql as
$$ insert into ${S}.table_meta (table_oid) values (rel) on conflict (table_oid) do nothing $$;

create or replace function ${S}._set_sortkey(rel regclass, cols jsonb) returns void language plpgsql as $$
declare
  col text;
  pos int := 0;
  seen text[] := '{}';
begin
  update ${S}.column_meta set sortkey_pos = null where table_oid = rel;
  for col in select jsonb_array_elements_text(cols) loop
    if col = any(seen) then
      raise exception 'column "%" appears twice in the SORTKEY', col using errcode = '42701';
    end if;
    seen := seen || col;
    pos := pos + 1;
    insert into ${S}.column_meta (table_oid, attnum, sortkey_pos) values (rel, ${S}._attnum(rel, col, 'SORTKEY'), pos)
      on conflict (table_oid, attnum) do update set sortkey_pos = excluded.sortkey_pos;
  end loop;
end $$;

create or replace function ${S}._add_constraint(rel regclass, c jsonb) returns void language plpgsql as $$
declare
  nums int2[] := '{}';
  col text;
  refrel regclass;
  refcols text[];
begin
  for col in select jsonb_array_elements_text(c->'columns') loop
    nums := nums || ${S}._attnum(rel, col, 'key');
  end loop;
  if c->>'kind' = 'p' and exists (select 1 from ${S}.constraint_meta where table_oid = rel and kind = 'p') then
    raise exception 'multiple primary keys for table "%" are not allowed', rel using errcode = '42P16';
  end if;
  if exists (select 1 from ${S}.constraint_meta where table_oid = rel and name = c->>'name') then
    raise exception 'constraint "%" for relation "%" already exists', c->>'name', rel using errcode = '42710';
  end if;
  if c ? 'refRaw' then
    refrel := to_regclass(c->>'refRaw');
  end if;
  if c ? 'refColumns' then
    select array_agg(x) into refcols from jsonb_array_elements_text(c->'refColumns') x;
  elsif refrel is not null then
    -- REFERENCES t without columns means t's primary key
    select array_agg(a.attname::text order by u.ord) into refcols
      from ${S}.constraint_meta k, unnest(k.attnums) with ordinality u(attnum, ord)
      join pg_attribute a on a.attrelid = refrel and a.attnum = u.attnum
      where k.table_oid = refrel and k.kind = 'p';
  end if;
  insert into ${S}.constraint_meta (table_oid, name, kind, attnums, ref_oid, ref_schema, ref_table, ref_columns)
  values (
    rel, c->>'name', c->>'kind', nums, refrel,
    coalesce((select n.nspname::text from pg_class cl join pg_namespace n on n.oid = cl.relnamespace where cl.oid = refrel), c->>'refSchema'),
    coalesce((select cl.relname::text from pg_class cl where cl.oid = refrel), c->>'refTable'),
    refcols
  );
end $$;

-- CREATE TABLE (… Redshift attributes …): called in the same transaction as the CREATE it describes
-- Zone maps, in the sandbox: Redshift keeps the min and max of every 1 MB block of every column and skips the blocks a
-- predicate rules out, so a range on a SORTKEY column (and on a change column such as updated_at, whose recent values
-- sit in the recently written blocks: an UPDATE is a delete plus an append) reads only the matching blocks. A
-- PostgreSQL heap has no such thing: without a stand-in every such predicate is a scan of the whole table, and the
-- sandbox's timings would grow with the table where Redshift's do not. So the sandbox (and only the sandbox) adds a
-- btree index on the first SORTKEY column (the one whose zone maps prune best; one index, so loading stays cheap) and
-- on a timestamp column named updated_at. Redshift has no indexes: nothing the
-- bot sends creates or names one.
create or replace function ${S}._zone_map_indexes(rel regclass) returns void language plpgsql as $$
declare
  col text;
begin
  for col in
    (select a.attname from ${S}.column_meta cm join pg_attribute a on a.attrelid = cm.table_oid and a.attnum = cm.attnum and not a.attisdropped
      where cm.table_oid = rel and cm.sortkey_pos is not null order by abs(cm.sortkey_pos) limit 1)
    union
    select a.attname from pg_attribute a
      where a.attrelid = rel and a.attname = 'updated_at' and not a.attisdropped and a.atttypid in ('timestamp'::regtype, 'timestamptz'::regtype)
  loop
    execute format('create index on %s (%I)', rel, col);
  end loop;
end $$;

create or replace function ${S}._record_table(j jsonb) returns void language plpgsql as $$
declare
  rel regclass := (j->>'table')::regclass;
  parent regclass;
  pm ${S}.table_meta%rowtype;
  ds text := 'AUTO';
  dk int2;
  ss text := 'AUTO';
  ea boolean := true;
  k text;
  v text;
  c jsonb;
begin
  -- CREATE TABLE IF NOT EXISTS on a table that already existed: nothing was created, nothing to record
  if not exists (select 1 from pg_class where oid = rel and xmin = pg_current_xact_id()::xid) then
    return;
  end if;
  -- the table is new: rows under its OID belong to a table dropped behind the sandbox's back
  delete from ${S}.column_meta where table_oid = rel;
  delete from ${S}.constraint_meta where table_oid = rel;
  delete from ${S}.table_meta where table_oid = rel;

  if j->>'like' is not null then
    -- CREATE TABLE … (LIKE parent): encodings, distribution, sort key and NOT NULL carry over; PK/FK do not
    parent := (j->>'like')::regclass;
    select * into pm from ${S}.table_meta where table_oid = parent;
    if found then
      ds := pm.diststyle;
      ss := pm.sortstyle;
      ea := pm.encode_auto;
      select a2.attnum into dk
        from pg_attribute a1 join pg_attribute a2 on a2.attrelid = rel and a2.attname = a1.attname and not a2.attisdropped
        where a1.attrelid = parent and a1.attnum = pm.distkey_attnum;
    end if;
    insert into ${S}.column_meta (table_oid, attnum, encoding, sortkey_pos)
      select rel, a2.attnum, cm.encoding, cm.sortkey_pos
        from ${S}.column_meta cm
        join pg_attribute a1 on a1.attrelid = parent and a1.attnum = cm.attnum and not a1.attisdropped
        join pg_attribute a2 on a2.attrelid = rel and a2.attname = a1.attname and not a2.attisdropped
        where cm.table_oid = parent;
  end if;

  if j->>'diststyle' is not null then
    ds := j->>'diststyle';
    dk := null;
  end if;
  if j->>'distkey' is not null then
    dk := ${S}._attnum(rel, j->>'distkey', 'DISTKEY');
  end if;
  if j->>'sortstyle' is not null then
    ss := j->>'sortstyle';
    perform ${S}._set_sortkey(rel, coalesce(j->'sortkey', '[]'::jsonb));
  end if;
  if jsonb_typeof(j->'encodeAuto') = 'boolean' then
    ea := (j->>'encodeAuto')::boolean;
  end if;
  for k, v in select * from jsonb_each_text(coalesce(j->'encodings', '{}'::jsonb)) loop
    insert into ${S}.column_meta (table_oid, attnum, encoding) values (rel, ${S}._attnum(rel, k, 'ENCODE'), v)
      on conflict (table_oid, attnum) do update set encoding = excluded.encoding;
  end loop;
  insert into ${S}.table_meta (table_oid, diststyle, distkey_attnum, sortstyle, encode_auto, backup)
    values (rel, ds, dk, ss, ea, coalesce((j->>'backup')::boolean, true));
  for c in select jsonb_array_elements(coalesce(j->'constraints', '[]'::jsonb)) loop
    perform ${S}._add_constraint(rel, c);
  end loop;
  perform ${S}._zone_map_indexes(rel);
end $$;

-- ALTER TABLE … that only changes Redshift metadata, and the checks Redshift makes before the ones PostgreSQL runs
create or replace function ${S}._alter_meta(j jsonb) returns void language plpgsql as $$
declare
  rel regclass := (j->>'table')::regclass;
  op text := j->>'op';
  tm ${S}.table_meta%rowtype;
  n int2;
  col text := j->>'column';
  cur_enc text;
  maxlen bigint;
  cname text;
begin
  perform ${S}._ensure(rel);
  select * into tm from ${S}.table_meta where table_oid = rel;
  case op
  when 'distkey' then
    if tm.sortstyle = 'INTERLEAVED' then
      raise exception 'ALTER DISTKEY is not supported for tables with an interleaved sort key' using errcode = '0A000';
    end if;
    n := ${S}._attnum(rel, col, 'DISTKEY');
    update ${S}.table_meta set diststyle = 'KEY', distkey_attnum = n where table_oid = rel;
  when 'diststyle' then
    if j->>'style' in ('ALL', 'EVEN') and tm.sortstyle = 'INTERLEAVED' then
      raise exception 'ALTER DISTSTYLE % is not supported for tables with an interleaved sort key', j->>'style' using errcode = '0A000';
    end if;
    update ${S}.table_meta set diststyle = j->>'style', distkey_attnum = null where table_oid = rel;
  when 'sortkey' then
    perform ${S}._set_sortkey(rel, j->'columns');
    update ${S}.table_meta set sortstyle = 'COMPOUND' where table_oid = rel;
  when 'sortkey_auto' then
    update ${S}.table_meta set sortstyle = 'AUTO' where table_oid = rel;
  when 'sortkey_none' then
    update ${S}.column_meta set sortkey_pos = null where table_oid = rel;
    update ${S}.table_meta set sortstyle = 'NONE' where table_oid = rel;
  when 'encode_auto' then
    update ${S}.table_meta set encode_auto = true where table_oid = rel;
  when 'column_encode' then
    if tm.sortstyle = 'INTERLEAVED' then
      raise exception 'cannot alter the encoding of column "%": the table has an interleaved sort key', col using errcode = '0A000';
    end if;
    n := ${S}._attnum(rel, col, 'ALTER COLUMN ENCODE');
    select encoding into cur_enc from ${S}.column_meta where table_oid = rel and attnum = n;
    if cur_enc = j->>'encoding' then
      raise exception 'column "%" already has encoding %', col, cur_enc using errcode = '42P17';
    end if;
    insert into ${S}.column_meta (table_oid, attnum, encoding) values (rel, n, j->>'encoding')
      on conflict (table_oid, attnum) do update set encoding = excluded.encoding;
    update ${S}.table_meta set encode_auto = false where table_oid = rel;
  when 'column_encode_new' then
    n := ${S}._attnum(rel, col, 'ENCODE');
    insert into ${S}.column_meta (table_oid, attnum, encoding) values (rel, n, j->>'encoding')
      on conflict (table_oid, attnum) do update set encoding = excluded.encoding;
  when 'add_constraint' then
    perform ${S}._add_constraint(rel, j->'constraint');
  when 'drop_constraint' then
    delete from ${S}.constraint_meta where table_oid = rel and name = j->>'name';
    if not found then
      raise exception 'constraint "%" of relation "%" does not exist', j->>'name', rel using errcode = '42704';
    end if;
  when 'check_drop_column' then
    select attnum into n from pg_attribute where attrelid = rel and attname = col and attnum > 0 and not attisdropped;
    if n is null then
      return; -- PostgreSQL reports the missing column
    end if;
    if tm.diststyle = 'KEY' and tm.distkey_attnum = n then
      raise exception 'cannot drop distkey column "%"', col using errcode = '0A000',
        hint = 'change the distribution first (ALTER DISTSTYLE or ALTER DISTKEY), or rebuild the table';
    end if;
    if exists (select 1 from ${S}.column_meta where table_oid = rel and attnum = n and sortkey_pos is not null) then
      raise exception 'cannot drop sortkey column "%"', col using errcode = '0A000',
        hint = 'change the sort key first (ALTER SORTKEY), or rebuild the table';
    end if;
    if (select count(*) from pg_attribute where attrelid = rel and attnum > 0 and not attisdropped) <= 1 then
      raise exception 'cannot drop the last column of table "%": a table needs at least one column', rel using errcode = '0A000';
    end if;
    select name into cname from ${S}.constraint_meta where table_oid = rel and n = any(attnums) limit 1;
    if cname is not null then
      if not coalesce((j->>'cascade')::boolean, false) then
        raise exception 'cannot drop column "%" of table "%" because constraint % depends on it', col, rel, cname
          using errcode = '2BP01', hint = 'Use DROP ... CASCADE to drop the dependent constraints too.';
      end if;
      delete from ${S}.constraint_meta where table_oid = rel and n = any(attnums);
    end if;
    delete from ${S}.column_meta where table_oid = rel and attnum = n;
  when 'check_alter_type' then
    select attnum into n from pg_attribute where attrelid = rel and attname = col and attnum > 0 and not attisdropped;
    if n is null then
      return;
    end if;
    if (select atttypid from pg_attribute where attrelid = rel and attnum = n) <> 'varchar'::regtype then
      raise exception 'cannot alter column "%" of type %: ALTER COLUMN TYPE only changes the size of a VARCHAR column', col,
        (select format_type(atttypid, atttypmod) from pg_attribute where attrelid = rel and attnum = n) using errcode = '0A000';
    end if;
    select encoding into cur_enc from ${S}.column_meta where table_oid = rel and attnum = n;
    if cur_enc in ('bytedict', 'runlength', 'text255', 'text32k') then
      raise exception 'cannot alter column "%": columns with % encoding cannot change type', col, upper(cur_enc) using errcode = '0A000';
    end if;
    if exists (select 1 from pg_attrdef where adrelid = rel and adnum = n) then
      raise exception 'cannot alter column "%": it has a default value', col using errcode = '0A000';
    end if;
    select name into cname from ${S}.constraint_meta where table_oid = rel and n = any(attnums) limit 1;
    if cname is not null then
      raise exception 'cannot alter column "%": it is part of constraint %', col, cname using errcode = '0A000';
    end if;
    execute format('select max(octet_length(%I)) from %s', col, rel) into maxlen;
    if maxlen > (j->>'length')::bigint then
      raise exception 'cannot alter column "%" to varchar(%): its longest value is % bytes', col, j->>'length', maxlen using errcode = '22001';
    end if;
  else
    raise exception 'unknown sandbox catalog operation "%"', op;
  end case;
end $$;

-- ALTER TABLE target APPEND FROM source [IGNOREEXTRA | FILLTARGET]: moves every row, source ends empty
create or replace function ${S}._append(j jsonb) returns void language plpgsql as $$
declare
  tgt regclass := (j->>'table')::regclass;
  src regclass := (j->>'source')::regclass;
  mode text := coalesce(j->>'mode', 'exact');
  cols text;
  bad text;
begin
  if tgt = src then
    raise exception 'ALTER TABLE APPEND: source and target are the same table' using errcode = '42809';
  end if;
  select string_agg(format('%I (%s vs %s)', t.attname, format_type(t.atttypid, t.atttypmod), format_type(s.atttypid, s.atttypmod)), ', ') into bad
    from pg_attribute t join pg_attribute s on s.attrelid = src and s.attname = t.attname and s.attnum > 0 and not s.attisdropped
    where t.attrelid = tgt and t.attnum > 0 and not t.attisdropped
      and (t.atttypid, t.atttypmod) is distinct from (s.atttypid, s.atttypmod);
  if bad is not null then
    raise exception 'ALTER TABLE APPEND: columns differ in type: %', bad using errcode = '42804';
  end if;
  if mode <> 'ignoreextra' then
    select string_agg(quote_ident(s.attname), ', ') into bad from pg_attribute s
      where s.attrelid = src and s.attnum > 0 and not s.attisdropped
        and not exists (select 1 from pg_attribute t where t.attrelid = tgt and t.attname = s.attname and t.attnum > 0 and not t.attisdropped);
    if bad is not null then
      raise exception 'ALTER TABLE APPEND: source has columns the target lacks: %', bad using errcode = '42703',
        hint = 'use IGNOREEXTRA to drop them';
    end if;
  end if;
  if mode <> 'filltarget' then
    select string_agg(quote_ident(t.attname), ', ') into bad from pg_attribute t
      where t.attrelid = tgt and t.attnum > 0 and not t.attisdropped
        and not exists (select 1 from pg_attribute s where s.attrelid = src and s.attname = t.attname and s.attnum > 0 and not s.attisdropped);
    if bad is not null then
      raise exception 'ALTER TABLE APPEND: target has columns the source lacks: %', bad using errcode = '42703',
        hint = 'use FILLTARGET to fill them with their defaults';
    end if;
  end if;
  select string_agg(quote_ident(t.attname), ', ' order by t.attnum) into cols
    from pg_attribute t join pg_attribute s on s.attrelid = src and s.attname = t.attname and s.attnum > 0 and not s.attisdropped
    where t.attrelid = tgt and t.attnum > 0 and not t.attisdropped;
  execute format('insert into %s (%s) select %s from %s', tgt, cols, cols, src);
  execute format('delete from %s', src);
end $$;

create or replace function ${S}._cleanup() returns void language sql as $$
  delete from ${S}.column_meta m where not exists (select 1 from pg_class c where c.oid = m.table_oid);
  delete from ${S}.constraint_meta m where not exists (select 1 from pg_class c where c.oid = m.table_oid);
  -- DROP TABLE … CASCADE drops the foreign keys other tables had on the dropped table, as Redshift does
  delete from ${S}.constraint_meta m where m.kind = 'f' and m.ref_oid is not null and not exists (select 1 from pg_class c where c.oid = m.ref_oid);
  delete from ${S}.table_meta m where not exists (select 1 from pg_class c where c.oid = m.table_oid);
$$;
`;

// user tables, without other sessions' temporary tables (which no other session can read)
const USER_TABLES = `c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', '${S}') and n.nspname !~ '^pg_toast'
  and (c.relpersistence <> 't' or c.relnamespace = pg_my_temp_schema())`;

const VIEWS = `
drop view if exists ${S}.pg_table_def;
drop view if exists ${S}.svv_table_info;
drop view if exists ${S}.svv_interleaved_columns;
drop view if exists ${S}.stv_partitions;
drop view if exists ${S}.svv_sandbox_constraints;
drop view if exists ${S}.pg_class_info; -- not provided: see the header of this file

-- Redshift lists only tables on the search_path (pg_table_is_visible), and so does this view
create view ${S}.pg_table_def as
select
  n.nspname as schemaname,
  c.relname as tablename,
  a.attname as "column",
  format_type(a.atttypid, a.atttypmod) as type,
  (case when cm.encoding is null or cm.encoding = 'raw' then 'none' else cm.encoding end)::character(32) as encoding,
  coalesce(tm.diststyle = 'KEY' and tm.distkey_attnum = a.attnum, false) as distkey,
  (case
     when cm.sortkey_pos is null or tm.sortstyle = 'NONE' then 0
     when tm.sortstyle = 'INTERLEAVED' and cm.sortkey_pos % 2 = 1 then -cm.sortkey_pos
     else cm.sortkey_pos
   end)::integer as sortkey,
  a.attnotnull as "notnull"
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
left join ${S}.table_meta tm on tm.table_oid = c.oid
left join ${S}.column_meta cm on cm.table_oid = c.oid and cm.attnum = a.attnum
where ${USER_TABLES} and pg_table_is_visible(c.oid);

-- like Redshift's, it shows no row for an empty table
create view ${S}.svv_table_info as
with base as materialized (
  select
    c.oid, n.nspname, c.relname,
    coalesce(tm.diststyle, 'AUTO') as diststyle, tm.distkey_attnum,
    coalesce(tm.sortstyle, 'AUTO') as sortstyle,
    coalesce(tm.encode_auto, true) as encode_auto,
    tm.created_at,
    ${S}._row_count(c.oid) as nrows,
    ${S}._size_mb(c.oid) as size_mb,
    ${S}._table_health(n.nspname, c.relname) as health
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  left join ${S}.table_meta tm on tm.table_oid = c.oid
  where ${USER_TABLES}
)
select
  current_database()::text as database,
  b.nspname::text as schema,
  b.oid as table_id,
  b.relname::text as "table",
  (case when exists (
      select 1 from ${S}.column_meta cm join pg_attribute a on a.attrelid = cm.table_oid and a.attnum = cm.attnum and not a.attisdropped
      where cm.table_oid = b.oid and cm.encoding is not null and cm.encoding <> 'raw')
    then 'Y' else 'N' end) || (case when b.encode_auto then ', AUTO(ENCODE)' else '' end) as encoded,
  case b.diststyle
    when 'EVEN' then 'EVEN'
    when 'ALL' then 'ALL'
    when 'KEY' then 'KEY(' || coalesce(dk.attname::text, '') || ')'
    else 'AUTO(ALL)'
  end as diststyle,
  case
    when b.sortstyle in ('COMPOUND', 'INTERLEAVED') then sk.attname::text
    when b.sortstyle = 'AUTO' then case when sk.attname is null then 'AUTO(SORTKEY)' else 'AUTO(SORTKEY(' || sk.attname || '))' end
  end as sortkey1,
  (select max(a.atttypmod - 4) from pg_attribute a
     where a.attrelid = b.oid and a.atttypid = 'varchar'::regtype and a.attnum > 0 and not a.attisdropped)::integer as max_varchar,
  (case when sk.attname is not null then coalesce(nullif(skm.encoding, 'raw'), 'none') end)::character(32) as sortkey1_enc,
  (case when b.sortstyle = 'NONE' then 0 else
    (select count(*) from ${S}.column_meta cm join pg_attribute a on a.attrelid = cm.table_oid and a.attnum = cm.attnum and not a.attisdropped
      where cm.table_oid = b.oid and cm.sortkey_pos is not null) end)::integer as sortkey_num,
  b.size_mb as size,
  round(b.size_mb * 100.0 / greatest(${S}._disk_capacity_mb(), 1), 4)::numeric(10,4) as pct_used,
  0::bigint as empty,
  (case when sk.attname is not null then coalesce((b.health->>'unsorted')::numeric, 0) end)::numeric(5,2) as unsorted,
  coalesce((b.health->>'statsOff')::numeric, 0)::numeric(5,2) as stats_off,
  -- rows marked deleted (seeded) count in tbl_rows, not in estimated_visible_rows, as on Redshift
  (b.nrows + coalesce((b.health->>'deletedRows')::bigint, 0))::numeric(38,0) as tbl_rows,
  (case when sk.attname is not null then 1 end)::numeric(19,2) as skew_sortkey1,
  (case when b.diststyle in ('KEY', 'EVEN') then coalesce((b.health->>'skewRows')::numeric, 1) end)::numeric(19,2) as skew_rows,
  b.nrows::numeric(38,0) as estimated_visible_rows,
  null::text as risk_event,
  0::numeric(12,2) as vacuum_sort_benefit,
  b.created_at as create_time
from base b
left join pg_attribute dk on dk.attrelid = b.oid and dk.attnum = b.distkey_attnum and b.diststyle = 'KEY'
left join ${S}.column_meta skm on skm.table_oid = b.oid and skm.sortkey_pos = 1 and b.sortstyle <> 'NONE'
left join pg_attribute sk on sk.attrelid = b.oid and sk.attnum = skm.attnum and not sk.attisdropped
where b.nrows > 0 and ${S}._system_view_visible('svv_table_info');

-- one row per interleaved sort key column (Redshift shows it to superusers only): skew from the tableHealth knob
create view ${S}.svv_interleaved_columns as
select
  c.oid::integer as tbl,
  (a.attnum - 1)::integer as col,
  coalesce((${S}._table_health(n.nspname, c.relname)->>'interleavedSkew')::numeric, 1)::numeric(19,2) as interleaved_skew,
  (${S}._table_health(n.nspname, c.relname)->>'lastReindex')::timestamp as last_reindex
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join ${S}.table_meta tm on tm.table_oid = c.oid and tm.sortstyle = 'INTERLEAVED'
join ${S}.column_meta cm on cm.table_oid = c.oid and cm.sortkey_pos is not null
join pg_attribute a on a.attrelid = c.oid and a.attnum = cm.attnum and not a.attisdropped
where ${USER_TABLES} and ${S}._system_view_visible('svv_interleaved_columns');

-- one disk: capacity from the fault knob diskCapacityMb, used = every user table's size in 1 MB blocks
create view ${S}.stv_partitions as
select
  0 as owner, 0 as host, 0 as diskno,
  0::bigint as part_begin,
  (x.cap * 1048576)::bigint as part_end,
  x.used::integer as used,
  0 as tossed,
  x.cap::integer as capacity,
  0::bigint as reads, 0::bigint as writes,
  0 as seek_forward, 0 as seek_back, 0 as is_san, 0 as failed, 0 as mbps,
  '/dev/sandbox0'::character(256) as mount
from (
  select ${S}._disk_capacity_mb() as cap,
    (select coalesce(sum(ceil(pg_total_relation_size(c.oid) / 1048576.0)), 0)
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${USER_TABLES}) as used
) x
where ${S}._system_view_visible('stv_partitions');

-- sandbox-only: the informational constraints Redshift records but never enforces
create view ${S}.svv_sandbox_constraints as
select
  n.nspname::text as schema,
  c.relname::text as "table",
  k.name as constraint_name,
  k.kind::text as kind,
  (select string_agg(a.attname::text, ',' order by u.ord)
     from unnest(k.attnums) with ordinality u(attnum, ord)
     join pg_attribute a on a.attrelid = k.table_oid and a.attnum = u.attnum) as columns,
  coalesce(rn.nspname::text, k.ref_schema) as ref_schema,
  coalesce(rc.relname::text, k.ref_table) as ref_table,
  array_to_string(k.ref_columns, ',') as ref_columns
from ${S}.constraint_meta k
join pg_class c on c.oid = k.table_oid
join pg_namespace n on n.oid = c.relnamespace
left join pg_class rc on rc.oid = k.ref_oid
left join pg_namespace rn on rn.oid = rc.relnamespace;
`;

const DATABASE_DEFAULTS = `
do $$
begin
  execute format('alter database %I set search_path = %s', current_database(), '${DEFAULT_SEARCH_PATH.replace(/'/g, "''")}');
  execute format('alter database %I set timezone = %L', current_database(), 'UTC');
  -- Redshift runs NOT IN (subquery) as a hash anti-join whatever the size; PostgreSQL hashes the subquery only when it
  -- fits in work_mem and otherwise rescans it for every row (hours on 1 M rows): give it room for a few million keys
  execute format('alter database %I set work_mem = %L', current_database(), '128MB');
exception when insufficient_privilege then
  null; -- sessions set both themselves anyway
end $$;
`;

/** The whole bootstrap, idempotent: tables keep their rows, functions and views are replaced. */
export function bootstrapSql(): string {
  return `${TABLES}\n${FUNCTIONS}\n${VIEWS}\n${DATABASE_DEFAULTS}\nselect ${S}._cleanup();`;
}

/** Create or update the sandbox catalog. Serialized across sandboxes sharing one database by an advisory lock. */
export async function bootstrapCatalog(session: DbSession): Promise<void> {
  await session.script(`begin;\nselect pg_advisory_xact_lock(7423901, ${CATALOG_VERSION});\n${bootstrapSql()}\ncommit;`);
}

export interface SessionSettings {
  diskCapacityMb: number;
  /** a regular user sees no rows in stv_partitions / svv_table_info unless granted (default: superuser) */
  superuser?: boolean;
  grants?: readonly string[];
  /** a Serverless workgroup: no STV tables */
  serverless?: boolean;
  /** the tableHealth fault knob (schema.table → seeded unsorted / stats_off / deleted rows / interleaved skew) */
  tableHealth?: Readonly<Record<string, unknown>>;
}

/**
 * Make a connection look like a fresh Data API session: nothing left from the previous statement (DISCARD ALL), the
 * sandbox schema on the search_path, UTC, and the fault knobs the catalog views read. Returns the backend pid.
 */
export async function resetSession(session: DbSession, settings: SessionSettings): Promise<number> {
  try {
    await session.query('DISCARD ALL');
  } catch (e) {
    // a transaction left open (25001) or failed (25P02) by the previous user of the connection: end it first
    if (!(e instanceof DbError) || (e.code !== '25001' && e.code !== '25P02')) throw e;
    await session.query('ROLLBACK');
    await session.query('DISCARD ALL');
  }
  const r = await session.query(
    `select pg_backend_pid()::text, set_config('search_path', $1, false), set_config('TimeZone', 'UTC', false),
            set_config('DateStyle', 'ISO, MDY', false), set_config('${S}.disk_capacity_mb', $2, false),
            set_config('${S}.superuser', $3, false), set_config('${S}.grants', $4, false), set_config('${S}.serverless', $5, false),
            set_config('${S}.table_health', $6, false)`,
    [
      DEFAULT_SEARCH_PATH,
      String(Math.max(0, Math.floor(settings.diskCapacityMb))),
      settings.superuser === false ? 'off' : 'on',
      (settings.grants ?? []).join(','),
      settings.serverless === true ? 'on' : 'off',
      JSON.stringify(settings.tableHealth ?? {}),
    ],
  );
  return Number(r.rows[0]?.[0] ?? 0);
}
