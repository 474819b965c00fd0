/**
 * The /redshift command language: table-driven cases, each asserting the exact Command or the error's message, column
 * (and suggestion / word where it matters). A registry built from real-looking ak_sumofus tables (plus one table in a
 * second schema) is used for most cases; the last block runs against the real schemas/ via loadRegistry.
 */
import { describe, expect, it } from 'vitest';
import { tableDef, type TableDef, type TableDefInput } from '../../src/schema/model.js';
import { loadRegistry } from '../../src/schema/registry.js';
import { decodeSlackText } from '../../src/slack/mrkdwn.js';
import {
  COMMANDS,
  OP_DEFINITIONS,
  type Command,
  type CommandError,
  type RegistryLike,
  commandSchema,
  commandSummary,
  formatCommandError,
  isChanging,
  parseCommand,
  renderHelp,
} from '../../src/commands/index.js';

// ---------------------------------------------------------------------------------------------------------------------
// Fixture registry

const cols = (spec: string): TableDefInput['columns'] =>
  spec
    .trim()
    .split('\n')
    .map((line) => {
      const [name, type, ...rest] = line.trim().split('|').map((s) => s.trim());
      const c: TableDefInput['columns'][number] = { name: name!, type: type! };
      for (const r of rest) {
        if (r === 'nn') c.notNull = true;
        else if (r.startsWith('d=')) c.default = r.slice(2);
        else if (r.startsWith('e=')) c.encode = r.slice(2) as never;
      }
      return c;
    });

const FIXTURE: TableDefInput[] = [
  {
    schema: 'ak_sumofus',
    name: 'core_action',
    columns: cols(`
      id | integer | nn
      created_at | datetime | nn | e=az64
      updated_at | datetime | nn
      user_id | integer | nn
      mailing_id | integer | d=NULL
      page_id | integer | nn
      link | integer
      source | varchar(765) | nn | e=lzo
      opq_id | varchar(765) | nn
      created_user | smallint | nn
      subscribed_user | smallint | nn
      referring_user_id | integer | d=NULL
      referring_mailing_id | integer | d=NULL
      taf_emails_sent | integer | d=NULL
      status | varchar(765) | nn | e=bytedict
      is_forwarded | smallint | nn | d=0
      ip_address | varchar(45)`),
    primaryKey: ['id'],
    distStyle: 'KEY',
    distKey: 'id',
    sortKey: { style: 'INTERLEAVED', columns: ['id', 'created_at', 'user_id', 'page_id', 'mailing_id', 'created_user', 'source'] },
  },
  {
    schema: 'ak_sumofus',
    name: 'core_user',
    columns: cols(`
      id | integer | nn
      created_at | datetime | nn
      updated_at | datetime | nn
      email | varchar(765) | nn
      prefix | varchar(765)
      first_name | varchar(765) | nn
      middle_name | varchar(765) | nn | d=''
      last_name | varchar(765) | nn
      suffix | varchar(765)
      password | varchar(765)
      subscription_status | varchar(765) | nn
      address1 | varchar(765) | nn
      address2 | varchar(765) | nn
      city | varchar(765) | nn
      state | varchar(765) | nn
      region | varchar(765) | nn
      postal | varchar(765) | nn
      zip | varchar(15) | nn
      plus4 | varchar(12)
      country | varchar(765) | nn
      source | varchar(765) | nn
      lang_id | integer | d=NULL
      rand_id | integer | nn`),
    primaryKey: ['id'],
    unique: [['email']],
    distStyle: 'KEY',
    distKey: 'id',
    sortKey: { style: 'INTERLEAVED', columns: ['id', 'email', 'created_at', 'country', 'lang_id', 'subscription_status'] },
  },
  {
    schema: 'ak_sumofus',
    name: 'core_page',
    columns: cols(`
      id | integer | nn
      created_at | datetime | nn
      updated_at | datetime | nn
      hidden | smallint | nn
      title | varchar(765) | nn
      name | varchar(765) | nn
      notes | varchar(765) | d=''''
      hosted_with_id | integer | nn
      url | varchar(765) | nn
      type | varchar(765) | nn
      lang_id | integer | d=NULL
      multilingual_campaign_id | integer | d=NULL
      goal | integer
      goal_type | varchar(765)
      status | varchar(765) | nn
      list_id | integer | nn
      allow_multiple_responses | smallint | nn
      recognize | varchar(765) | nn
      never_spam_check | smallint
      real_actions | smallint | nn`),
    primaryKey: ['id'],
    unique: [['name']],
    distStyle: 'KEY',
    distKey: 'id',
    sortKey: { style: 'INTERLEAVED', columns: ['id', 'created_at', 'lang_id', 'type', 'title'] },
  },
  {
    schema: 'ak_sumofus',
    name: 'core_mailing',
    columns: cols(`
      id | integer | nn
      created_at | datetime | nn
      updated_at | datetime | nn
      hidden | smallint | nn
      notes | varchar(765)
      html | varchar(max)
      text | varchar(max)
      lang_id | integer | d=NULL
      rate | float
      progress | integer | d=NULL
      status | varchar(765) | d=NULL
      limit | integer
      sort_by | varchar(96) | d=NULL
      limit_percent | integer
      started_at | datetime | d=NULL
      recurring_schedule_id | integer | d=NULL
      send_date | varchar(765) | nn`),
    primaryKey: ['id'],
    distStyle: 'KEY',
    distKey: 'id',
    sortKey: { style: 'INTERLEAVED', columns: ['id', 'started_at', 'recurring_schedule_id'] },
  },
  {
    schema: 'ak_sumofus',
    name: 'core_usermailing',
    columns: cols(`
      id | bigint | nn
      mailing_id | integer | nn
      user_id | integer | nn
      subject_id | integer | d=NULL
      created_at | datetime | nn`),
    primaryKey: ['id'],
    distStyle: 'KEY',
    distKey: 'user_id',
    sortKey: { style: 'INTERLEAVED', columns: ['user_id', 'mailing_id', 'created_at', 'id'] },
    replication: { provider: 'dms', taskId: 'flydata-core-usermailing', logGroup: 'dms-tasks-core-usermailing-replication' },
  },
  {
    schema: 'ops',
    name: 'audit_event',
    columns: cols(`
      id | bigint | nn
      payload | super
      happened_at | timestamptz | nn
      note | char(8)
      flag | boolean | d=false
      amount | numeric(10,2)
      day | date
      at_time | time`),
    distStyle: 'EVEN',
    sortKey: { style: 'COMPOUND', columns: ['happened_at'] },
  },
  {
    schema: 'ak_sumofus',
    name: 'core_tag',
    columns: cols(`
      id | integer | nn`),
    distStyle: 'ALL',
  },
];

function makeRegistry(defs: readonly TableDefInput[], defaultSchema = 'ak_sumofus'): RegistryLike {
  const tables = new Map<string, TableDef>();
  for (const d of defs) {
    const t = tableDef.parse(d);
    tables.set(`${t.schema}.${t.name}`, t);
  }
  const get = (schema: string, name: string): TableDef | undefined => {
    const exact = tables.get(`${schema}.${name}`);
    if (exact) return exact;
    const want = `${schema}.${name}`.toLowerCase();
    for (const [k, t] of tables) if (k.toLowerCase() === want) return t;
    return undefined;
  };
  return {
    defaultSchema,
    tables,
    get,
    find: (name) => {
      const dot = name.indexOf('.');
      return dot < 0 ? get(defaultSchema, name) : get(name.slice(0, dot), name.slice(dot + 1));
    },
    names: () => [...tables.values()].filter((t) => t.schema === defaultSchema).map((t) => t.name).sort(),
  };
}

const registry = makeRegistry(FIXTURE);
const parse = (text: string) => parseCommand(text, { registry });

// ---------------------------------------------------------------------------------------------------------------------
// Helpers for expected values

const T = (name: string, schema = 'ak_sumofus') => ({ schema, name });
const M = (table: string, ops: unknown[], extra: Record<string, unknown> = {}): Command =>
  ({ kind: 'modify', table: T(table), ops, dryRun: false, deepCopy: false, forceDrift: false, ...extra }) as Command;
const add = (name: string, type: string, more: Record<string, unknown> = {}) => ({ op: 'add_column', column: { name, type, notNull: false, ...more } });
const drop = (column: string) => ({ op: 'drop_column', column });
const rename = (from: string, to: string) => ({ op: 'rename_column', from, to });
const alterType = (column: string, type: string) => ({ op: 'alter_column_type', column, type });
const alterEnc = (column: string, encode: string) => ({ op: 'alter_column_encode', column, encode });
const distkey = (column: string) => ({ op: 'set_distkey', column });
const diststyle = (style: string) => ({ op: 'set_diststyle', style });
const sortkey = (style: string, columns: string[] = []) => ({ op: 'set_sortkey', style, columns });

/** where the error must point: a number (1-based column), a needle (its first occurrence), or [needle, occurrence] */
type At = number | string | [string, number];

function columnOf(text: string, at: At): number {
  if (typeof at === 'number') return at;
  const [needle, nth] = typeof at === 'string' ? [at, 0] : at;
  let i = -1;
  for (let k = 0; k <= nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`test bug: "${needle}" (#${nth}) not in "${text}"`);
  }
  return i + 1;
}

interface ErrCase {
  in: string;
  msg: string;
  at: At;
  sug?: string;
  word?: string;
}

function expectError(c: ErrCase): CommandError {
  const r = parse(c.in);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(c.in)}, got ${JSON.stringify(r.command)}`);
  expect(r.error.message).toBe(c.msg);
  expect(r.error.column).toBe(columnOf(c.in, c.at));
  expect(r.error.suggestion).toBe(c.sug);
  if (c.word !== undefined) expect(r.error.word).toBe(c.word);
  // the formatter never throws and always shows the message
  expect(formatCommandError(c.in, r.error)).toContain(r.error.message);
  return r.error;
}

function expectCommand(text: string, want: Command): Command {
  const r = parse(text);
  if (!r.ok) throw new Error(`expected a command for ${JSON.stringify(text)}, got: ${formatCommandError(text, r.error)}`);
  expect(r.command).toEqual(want);
  // job data round trip: the schema accepts it unchanged, and the summary parses back to the same command
  expect(commandSchema.parse(JSON.parse(JSON.stringify(r.command)))).toEqual(r.command);
  const again = parse(commandSummary(r.command));
  expect(again.ok && again.command).toEqual(r.command);
  return r.command;
}

// ---------------------------------------------------------------------------------------------------------------------
// Valid commands

const VALID: Array<[string, Command]> = [
  // help
  ['help', { kind: 'help' }],
  ['HELP', { kind: 'help' }],
  ['help modify', { kind: 'help', topic: 'modify' }],
  ['help Schema apply', { kind: 'help', topic: 'schema' }],
  ['/redshift help', { kind: 'help' }],
  ['/REDSHIFT   help plan', { kind: 'help', topic: 'plan' }],
  // status
  ['status', { kind: 'status' }],
  ['status core_action', { kind: 'status', table: T('core_action') }],
  ['status Core_Action', { kind: 'status', table: T('core_action') }],
  ['status ak_sumofus.core_user', { kind: 'status', table: T('core_user') }],
  ['status ops.audit_event', { kind: 'status', table: T('audit_event', 'ops') }],
  ['/redshift status core_page', { kind: 'status', table: T('core_page') }],
  ['  status \t core_page  ', { kind: 'status', table: T('core_page') }],
  ['status\u00a0core_page', { kind: 'status', table: T('core_page') }],
  ['`status core_page`', { kind: 'status', table: T('core_page') }],
  ['```status core_page```', { kind: 'status', table: T('core_page') }],
  ['status\ncore_page', { kind: 'status', table: T('core_page') }],
  // modify: add column
  ['modify core_action add column referrer varchar(256)', M('core_action', [add('referrer', 'varchar(256)')])],
  ['modify core_action add referrer varchar(256)', M('core_action', [add('referrer', 'varchar(256)')])],
  ['modify core_action add column referrer varchar (256) encode zstd', M('core_action', [add('referrer', 'varchar(256)', { encode: 'zstd' })])],
  ['MODIFY CORE_ACTION ADD COLUMN Referrer VARCHAR(MAX) ENCODE ZSTD', M('core_action', [add('referrer', 'varchar(65535)', { encode: 'zstd' })])],
  ['modify core_action add column n text', M('core_action', [add('n', 'varchar(256)')])],
  ['modify core_action add column n int', M('core_action', [add('n', 'integer')])],
  ['modify core_action add column n int8 default -42', M('core_action', [add('n', 'bigint', { default: '-42' })])],
  ['modify core_action add column n smallint default 32767', M('core_action', [add('n', 'smallint', { default: '32767' })])],
  ['modify core_action add column n numeric(12, 2) default 1234567890.12', M('core_action', [add('n', 'numeric(12,2)', { default: '1234567890.12' })])],
  ['modify core_action add column n decimal default 7', M('core_action', [add('n', 'numeric(18,0)', { default: '7' })])],
  ['modify core_action add column n double precision default -0.5', M('core_action', [add('n', 'double precision', { default: '-0.5' })])],
  ['modify core_action add column n float default 3', M('core_action', [add('n', 'double precision', { default: '3' })])],
  ['modify core_action add column n real default 007', M('core_action', [add('n', 'real', { default: '7' })])],
  ['modify core_action add column is_test boolean not null default false', M('core_action', [add('is_test', 'boolean', { notNull: true, default: 'false' })])],
  ['modify core_action add column is_test bool default TRUE', M('core_action', [add('is_test', 'boolean', { default: 'true' })])],
  ["modify core_action add column note varchar(64) not null default ''", M('core_action', [add('note', 'varchar(64)', { notNull: true, default: "''" })])],
  ["modify core_action add column note varchar(64) default 'it''s' not null", M('core_action', [add('note', 'varchar(64)', { notNull: true, default: "'it''s'" })])],
  ['modify core_action add column note varchar(10) default \u2018it\u2019\u2019s ok\u2019', M('core_action', [add('note', 'varchar(10)', { default: "'it''s ok'" })])],
  ["modify core_action add column note varchar(6) default 'héllo'", M('core_action', [add('note', 'varchar(6)', { default: "'héllo'" })])],
  ["modify core_action add column note char(3) default 'abc' encode bytedict", M('core_action', [add('note', 'char(3)', { default: "'abc'", encode: 'bytedict' })])],
  ['modify core_action add column note varchar(10) default null', M('core_action', [add('note', 'varchar(10)', { default: 'NULL' })])],
  ['modify core_action add column note varchar(10) null', M('core_action', [add('note', 'varchar(10)')])],
  ['modify core_action add column seen_at timestamp default getdate()', M('core_action', [add('seen_at', 'timestamp', { default: 'getdate()' })])],
  ['modify core_action add column seen_at datetime not null default GETDATE ( ) encode az64', M('core_action', [add('seen_at', 'timestamp', { notNull: true, default: 'getdate()', encode: 'az64' })])],
  ['modify core_action add column seen_at timestamp without time zone default sysdate', M('core_action', [add('seen_at', 'timestamp', { default: 'sysdate' })])],
  ['modify core_action add column seen_at timestamp with time zone', M('core_action', [add('seen_at', 'timestamptz')])],
  ["modify core_action add column seen_on date default '2024-02-29'", M('core_action', [add('seen_on', 'date', { default: "'2024-02-29'" })])],
  ["modify core_action add column seen_at timestamp default '2024-01-31 23:59:59'", M('core_action', [add('seen_at', 'timestamp', { default: "'2024-01-31 23:59:59'" })])],
  ['modify core_action add column seen_on date default current_date', M('core_action', [add('seen_on', 'date', { default: 'current_date' })])],
  ['modify core_action add column doc super', M('core_action', [add('doc', 'super')])],
  ['modify core_action add column _private character varying(12)', M('core_action', [add('_private', 'varchar(12)')])],
  // modify: drop / rename / alter
  ['modify core_action drop column opq_id', M('core_action', [drop('opq_id')])],
  ['modify core_action drop opq_id', M('core_action', [drop('opq_id')])],
  ['modify core_mailing drop column limit', M('core_mailing', [drop('limit')])],
  ['modify core_mailing drop column LIMIT, drop column text', M('core_mailing', [drop('limit'), drop('text')])],
  ['modify core_mailing rename column limit to row_limit', M('core_mailing', [rename('limit', 'row_limit')])],
  ['modify core_mailing rename column text to body_text, rename column html to body_html', M('core_mailing', [rename('text', 'body_text'), rename('html', 'body_html')])],
  ['modify core_action rename column opq_id to opaque_id, alter column opaque_id type varchar(1024)', M('core_action', [rename('opq_id', 'opaque_id'), alterType('opaque_id', 'varchar(1024)')])],
  ['modify core_action rename column id to action_id', M('core_action', [rename('id', 'action_id')])],
  ['modify core_action alter column source type varchar(1024)', M('core_action', [alterType('source', 'varchar(1024)')])],
  ['modify core_action alter source type varchar(max)', M('core_action', [alterType('source', 'varchar(65535)')])],
  ['modify core_action alter column link type bigint', M('core_action', [alterType('link', 'bigint')])],
  ['modify core_action alter column link encode az64', M('core_action', [alterEnc('link', 'az64')])],
  ['modify core_action alter column link type bigint, alter column link encode delta32k', M('core_action', [alterType('link', 'bigint'), alterEnc('link', 'delta32k')])],
  ['modify core_action alter column source encode zstd', M('core_action', [alterEnc('source', 'zstd')])],
  ['modify core_mailing alter column limit type bigint', M('core_mailing', [alterType('limit', 'bigint')])],
  // modify: keys
  ['modify core_action set distkey user_id', M('core_action', [distkey('user_id')])],
  ['modify core_action set diststyle even', M('core_action', [diststyle('EVEN')])],
  ['modify core_action set diststyle ALL', M('core_action', [diststyle('ALL')])],
  ['modify core_action set diststyle auto', M('core_action', [diststyle('AUTO')])],
  ['modify core_action set sortkey (created_at, id)', M('core_action', [sortkey('COMPOUND', ['created_at', 'id'])])],
  ['modify core_action set sortkey compound(created_at)', M('core_action', [sortkey('COMPOUND', ['created_at'])])],
  ['modify core_action set sortkey interleaved (id, user_id, page_id)', M('core_action', [sortkey('INTERLEAVED', ['id', 'user_id', 'page_id'])])],
  [
    'modify core_action set sortkey interleaved (id, created_at, user_id, page_id, mailing_id, created_user, source, status)',
    M('core_action', [sortkey('INTERLEAVED', ['id', 'created_at', 'user_id', 'page_id', 'mailing_id', 'created_user', 'source', 'status'])]),
  ],
  ['modify core_action set sortkey none', M('core_action', [sortkey('NONE')])],
  ['modify core_action set sortkey AUTO', M('core_action', [sortkey('AUTO')])],
  ['modify core_mailing set sortkey (limit, id)', M('core_mailing', [sortkey('COMPOUND', ['limit', 'id'])])],
  ['modify core_mailing set distkey limit', M('core_mailing', [distkey('limit')])],
  ['modify core_action drop column id, set distkey user_id, set sortkey (created_at)', M('core_action', [drop('id'), distkey('user_id'), sortkey('COMPOUND', ['created_at'])])],
  ['modify core_action set diststyle even, drop column id, set sortkey none', M('core_action', [diststyle('EVEN'), drop('id'), sortkey('NONE')])],
  ['modify core_action drop column created_at, set sortkey (id)', M('core_action', [drop('created_at'), sortkey('COMPOUND', ['id'])])],
  ['modify core_action rename column user_id to member_id, set sortkey (member_id)', M('core_action', [rename('user_id', 'member_id'), sortkey('COMPOUND', ['member_id'])])],
  ['modify core_tag add column name varchar(64), drop column id', M('core_tag', [add('name', 'varchar(64)'), drop('id')])],
  ['modify ops.audit_event set sortkey (id)', { ...M('core_action', [sortkey('COMPOUND', ['id'])]), table: T('audit_event', 'ops') } as Command],
  ["modify ops.audit_event add column label char(2) default 'ab'", { ...M('x', [add('label', 'char(2)', { default: "'ab'" })]), table: T('audit_event', 'ops') } as Command],
  ['modify core_action add column code char(max)', M('core_action', [add('code', 'char(4096)')])],
  // modify: flags (anywhere, autocorrected dashes, = values)
  ['modify core_action drop column opq_id --dry-run', M('core_action', [drop('opq_id')], { dryRun: true })],
  ['modify --dry-run core_action drop column opq_id', M('core_action', [drop('opq_id')], { dryRun: true })],
  ['modify core_action drop column opq_id \u2014dry-run \u2013deep-copy', M('core_action', [drop('opq_id')], { dryRun: true, deepCopy: true })],
  ['modify core_action drop column opq_id --FORCE-DRIFT', M('core_action', [drop('opq_id')], { forceDrift: true })],
  ['modify core_action drop column opq_id --strategy live-copy', M('core_action', [drop('opq_id')], { strategy: 'live-copy' })],
  ['modify core_action drop column opq_id --strategy=Rename-First --deep-copy', M('core_action', [drop('opq_id')], { strategy: 'rename-first', deepCopy: true })],
  ['modify core_usermailing set distkey mailing_id --deep-copy', M('core_usermailing', [distkey('mailing_id')], { deepCopy: true })],
  // plan = modify --dry-run
  ['plan core_action drop column opq_id', M('core_action', [drop('opq_id')], { dryRun: true })],
  ['plan core_action drop column opq_id --dry-run', M('core_action', [drop('opq_id')], { dryRun: true })],
  ['plan core_page set sortkey (created_at, id) --strategy rename-first', M('core_page', [sortkey('COMPOUND', ['created_at', 'id'])], { dryRun: true, strategy: 'rename-first' })],
  // other commands
  ['recover core_action', { kind: 'recover', table: T('core_action'), dryRun: false }],
  ['recover core_usermailing --dry-run', { kind: 'recover', table: T('core_usermailing'), dryRun: true }],
  ['setup', { kind: 'setup', dryRun: false }],
  ['setup --dry-run', { kind: 'setup', dryRun: true }],
  ['jobs', { kind: 'jobs' }],
  ['job 42', { kind: 'job', id: '42' }],
  ['job #42', { kind: 'job', id: '42' }],
  ['job modify-core_action-1a2b.3', { kind: 'job', id: 'modify-core_action-1a2b.3' }],
  ['cancel 42', { kind: 'cancel', id: '42' }],
  ['rollback 7', { kind: 'rollback', id: '7' }],
  ['unlock core_page', { kind: 'unlock', table: T('core_page') }],
  ['schema diff', { kind: 'schema-diff' }],
  ['schema diff core_user', { kind: 'schema-diff', table: T('core_user') }],
  ['schema apply core_user', { kind: 'schema-apply', all: false, tables: [T('core_user')], dryRun: false }],
  ['schema apply core_user core_page --dry-run', { kind: 'schema-apply', all: false, tables: [T('core_user'), T('core_page')], dryRun: true }],
  ['schema apply core_user, core_page, ops.audit_event', { kind: 'schema-apply', all: false, tables: [T('core_user'), T('core_page'), T('audit_event', 'ops')], dryRun: false }],
  ['schema apply --all', { kind: 'schema-apply', all: true, tables: [], dryRun: false }],
  ['schema apply --all --dry-run', { kind: 'schema-apply', all: true, tables: [], dryRun: true }],
];

describe('valid commands', () => {
  it.each(VALID)('%s', (text, want) => {
    expectCommand(text, want);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Errors

/** Text as Slack sends it (entities, links it wrapped): decoded once at the Slack boundary, then parsed. */
const SLACK_TEXT: Array<[string, Command]> = [
  ["modify core_action add column note varchar(10) default '&lt;none&gt;'", M('core_action', [add('note', 'varchar(10)', { default: "'<none>'" })])],
  ["modify core_action add column site varchar(64) default '<http://sumofus.org|sumofus.org>'", M('core_action', [add('site', 'varchar(64)', { default: "'sumofus.org'" })])],
  ["modify core_action add column site varchar(64) default '<https://sumofus.org/a?b=1&amp;c=2>'", M('core_action', [add('site', 'varchar(64)', { default: "'https://sumofus.org/a?b=1&c=2'" })])],
  ["modify core_action add column mail varchar(64) default '<mailto:a@sumofus.org|a@sumofus.org>'", M('core_action', [add('mail', 'varchar(64)', { default: "'a@sumofus.org'" })])],
  ["modify core_action add column note varchar(10) default '&amp;lt;b&amp;gt;'", M('core_action', [add('note', 'varchar(10)', { default: "'&lt;b&gt;'" })])],
];

describe('Slack-escaped text, decoded by decodeSlackText', () => {
  it.each(SLACK_TEXT)('%s', (text, want) => {
    const r = parse(decodeSlackText(text));
    expect(r.ok ? r.command : r.error).toEqual(want);
  });

  it('the parser itself reads text as typed: &amp; in a console string is the text &amp;', () => {
    const r = parse("modify core_action add column note varchar(10) default '&amp;'");
    expect(r.ok ? r.command : r.error).toEqual(M('core_action', [add('note', 'varchar(10)', { default: "'&amp;'" })]));
  });
});

const ADD_USAGE = 'add column <name> <type> [not null] [default <literal>] [encode <enc>]';

const ERRORS: ErrCase[] = [
  // empty, prefixes, unknown commands
  { in: '', msg: 'no command given — /redshift help lists the commands', at: 1, sug: 'help' },
  { in: '     ', msg: 'no command given — /redshift help lists the commands', at: 1, sug: 'help' },
  { in: '/redshift', msg: 'no command given — /redshift help lists the commands', at: 1, sug: 'help' },
  { in: '``` ```', msg: 'no command given — /redshift help lists the commands', at: 1, sug: 'help' },
  { in: 'stauts', msg: 'unknown command stauts — did you mean status? (/redshift help lists the commands)', at: 1, sug: 'status' },
  { in: '/redshift modfy core_action drop column link', msg: 'unknown command modfy — did you mean modify? (/redshift help lists the commands)', at: 'modfy', sug: 'modify' },
  { in: 'alter table core_action add column x int', msg: 'unknown command alter — did you mean modify? (/redshift help lists the commands)', at: 1, sug: 'modify' },
  { in: 'select * from core_user', msg: 'unknown command select — did you mean status? (/redshift help lists the commands)', at: 1, sug: 'status' },
  { in: 'frobnicate', msg: 'unknown command frobnicate (/redshift help lists the commands)', at: 1 },
  { in: "'status'", msg: "expected a command, found 'status' — /redshift help lists the commands", at: 1 },
  { in: '(status)', msg: 'expected a command, found "(" — /redshift help lists the commands', at: 1 },
  { in: 'help modfy', msg: 'no command modfy — did you mean modify?', at: 'modfy', sug: 'modify' },
  { in: 'help xyzzy', msg: 'no command xyzzy (help lists the commands)', at: 'xyzzy' },
  { in: 'help modify plan', msg: 'unexpected plan: help takes one command name', at: 'plan' },
  // tables
  { in: 'status core_actoin', msg: 'unknown table core_actoin — did you mean core_action?', at: 'core_actoin', sug: 'core_action' },
  { in: 'modify core_actoin drop column link', msg: 'unknown table core_actoin — did you mean core_action?', at: 'core_actoin', sug: 'core_action' },
  { in: 'status nothing_like_it', msg: 'unknown table nothing_like_it — /redshift status lists the tables', at: 'nothing' },
  { in: 'status core_action core_user', msg: 'unexpected core_user: status takes at most one table', at: 'core_user' },
  { in: 'status ops.core_action', msg: 'no table ops.core_action in schemas/; core_action is in schema ak_sumofus — did you mean ak_sumofus.core_action?', at: 'ops', sug: 'ak_sumofus.core_action' },
  { in: 'status ak_sumofus.core_usr', msg: 'unknown table ak_sumofus.core_usr — did you mean ak_sumofus.core_user?', at: 'ak_', sug: 'ak_sumofus.core_user' },
  { in: 'status audit_event', msg: 'no table audit_event in schema ak_sumofus; it is in schema ops — did you mean ops.audit_event?', at: 'audit', sug: 'ops.audit_event' },
  { in: 'status a.b.c', msg: 'a.b.c is not a table name: write table or schema.table', at: 'a.b' },
  { in: 'status .core_user', msg: '.core_user is not a table name: write table or schema.table', at: '.core' },
  { in: 'recover new_core_action', msg: 'new_core_action is the new copy made during a change of core_action; commands name the table itself — did you mean core_action?', at: 'new_', sug: 'core_action' },
  { in: 'unlock old_core_page', msg: 'old_core_page is the old copy made during a change of core_page; commands name the table itself — did you mean core_page?', at: 'old_', sug: 'core_page' },
  { in: 'status "core_action"', msg: 'table names are not quoted in /redshift: write core_action (plain names only: letters, digits and _)', at: '"', sug: 'core_action' },
  { in: 'status core-action', msg: '"-" is not allowed in a table name (core-action): names are letters, digits and _', at: '-', word: '-' },
  { in: 'status core_action*', msg: '"*" is not allowed in a table name (core_action*): names are letters, digits and _', at: '*' },
  { in: `status ${'t'.repeat(128)}`, msg: `${'t'.repeat(39)}… is longer than a Redshift name can be (127 bytes)`, at: 8 },
  // unicode look-alikes and invisible characters
  {
    in: 'status core_\u0430ction',
    msg: 'table name core_\u0430ction contains "\u0430" (U+0430 CYRILLIC SMALL LETTER A) — names are plain ASCII letters, digits and _; did you mean core_action?',
    at: '\u0430',
    sug: 'core_action',
    word: '\u0430',
  },
  {
    in: 'modify core_action drop column \u0441reated_at',
    msg: 'column name \u0441reated_at contains "\u0441" (U+0441 CYRILLIC SMALL LETTER ES) — names are plain ASCII letters, digits and _; did you mean created_at?',
    at: '\u0441',
    sug: 'created_at',
  },
  {
    in: 'status core_\u200baction',
    msg: 'table name core_\u200baction contains the invisible character U+200B ZERO WIDTH SPACE — names are plain ASCII letters, digits and _; did you mean core_action?',
    at: '\u200b',
    sug: 'core_action',
  },
  {
    in: 'status \uff43ore_user',
    msg: 'table name \uff43ore_user contains "\uff43" (U+FF43 FULLWIDTH LATIN SMALL LETTER C) — names are plain ASCII letters, digits and _; did you mean core_user?',
    at: '\uff43',
    sug: 'core_user',
  },
  {
    in: 'm\u043edify core_user drop column plus4',
    msg: 'command name m\u043edify contains "\u043e" (U+043E CYRILLIC SMALL LETTER O) — names are plain ASCII letters, digits and _; did you mean modify?',
    at: 2,
    sug: 'modify',
  },
  {
    in: 'modify core_action add column caf\u00e9 int',
    msg: 'column name caf\u00e9 contains "\u00e9" (U+00E9) — names are plain ASCII letters, digits and _',
    at: '\u00e9',
  },
  {
    in: 'modify core_action add column x\u{1F600} int',
    msg: 'column name x\u{1F600} contains "\u{1F600}" (U+1F600) — names are plain ASCII letters, digits and _',
    at: '\u{1F600}',
    word: '\u{1F600}',
  },
  // control characters, size
  { in: 'status core_action\u0000', msg: 'the command contains U+0000 (NUL) — retype it without control characters', at: 19 },
  { in: '\u0000', msg: 'the command contains U+0000 (NUL) — retype it without control characters', at: 1 },
  { in: 'status core\u001b[31maction', msg: 'the command contains U+001B (ESCAPE) — retype it without control characters', at: 12 },
  { in: "modify core_action add column n varchar(9) default 'a\nb'", msg: 'a string may not contain U+000A (LINE FEED): defaults are one-line text', at: '\n' },
  { in: `status ${'x'.repeat(4000)}`, msg: 'the command is 4,007 characters long; /redshift takes at most 4,000 — split the change into several commands', at: 4001 },
  { in: `modify core_action ${Array.from({ length: 400 }, (_, i) => `drop column c${i}`).join(', ')}`, msg: 'the command is 7,107 characters long; /redshift takes at most 4,000 — split the change into several commands', at: 4001 },
  // SQL injection in every position
  { in: 'core_action; drop table x', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'status core_action; drop table x', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'status core_action;', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'modify core_action add column foo varchar(64); --', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: "modify core_action add column foo varchar(64) default ''; drop table core_user", msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'modify core_action rename column link to "b"; drop table core_user', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'modify core_action add column foo varchar(64) --', msg: '"--" is not an option (and SQL comments are not accepted); options of modify: --dry-run, --deep-copy, --force-drift, --strategy', at: '--' },
  { in: 'modify core_action drop column link -- comment', msg: '"--" is not an option (and SQL comments are not accepted); options of modify: --dry-run, --deep-copy, --force-drift, --strategy', at: '--' },
  { in: 'modify core_action rename column link to "b"', msg: 'new column names are not quoted in /redshift: write b (plain names only: letters, digits and _)', at: '"b"', sug: 'b' },
  { in: 'modify core_action rename column link to "a""b"', msg: 'new column names are not quoted in /redshift (plain names only: letters, digits and _)', at: '"a' },
  { in: 'modify core_action add column "x; drop table y" int', msg: 'column names are not quoted in /redshift (plain names only: letters, digits and _)', at: '"' },
  { in: "modify core_action add column x int default 1 or 1=1", msg: 'unexpected or in add column x: expected not null, default, encode, or a comma before the next op', at: 'or 1' },
  { in: "modify core_action add column x varchar(9) default 'a' || 'b'", msg: 'unexpected || in add column x: expected not null, default, encode, or a comma before the next op', at: '||' },
  { in: 'modify core_action add column x int default (select 1)', msg: "expected a value after default: NULL, a number, a 'quoted string', true/false or getdate(); found \"(\"", at: '(s' },
  { in: 'modify core_action add column x int default now()', msg: 'Redshift has no now() default: use getdate()', at: 'now', sug: 'getdate()' },
  { in: 'modify core_action add column x int default user', msg: "default must be NULL, a number, a 'quoted string', true/false or getdate(); found user — did you mean the string 'user'?", at: 'user', sug: "'user'" },
  { in: 'modify core_action add column x varchar(9) default "abc"', msg: "double quotes make a name, not a string: write 'abc'", at: '"abc"', sug: "'abc'" },
  { in: 'modify core_action add column x varchar(9) default \u201cabc\u201d', msg: "double quotes make a name, not a string: write 'abc'", at: '\u201c', sug: "'abc'" },
  { in: "modify core_action add column x varchar(9) default 'abc", msg: "this string is never closed — end it with ' (write '' for a ' inside it)", at: "'abc" },
  { in: 'modify core_action drop column link) --', msg: '"--" is not an option (and SQL comments are not accepted); options of modify: --dry-run, --deep-copy, --force-drift, --strategy', at: '--' },
  { in: 'modify core_action drop column link)', msg: 'unexpected ")" after drop column link', at: ')' },
  { in: 'modify core_action drop column link/**/', msg: '"/" is not allowed in a column name (link/**/): names are letters, digits and _', at: '/' },
  { in: 'status core_action/*', msg: '"/" is not allowed in a table name (core_action/*): names are letters, digits and _', at: '/' },
  { in: 'job 1 OR 1=1', msg: 'unexpected OR: job takes one job id', at: 'OR' },
  { in: 'job 1=1', msg: '1=1 is not a job id: ids are letters, digits, _ . - (at most 100), as jobs lists them', at: '1=1' },
  { in: "cancel '42'", msg: "expected a job id after cancel, found '42'", at: "'" },
  { in: 'rollback', msg: 'expected a job id after rollback (jobs lists them)', at: 9 },
  { in: 'modify core_action set distkey id; vacuum', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'modify core_action set sortkey (id); --', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: 'modify core_action add column x varchar(64)) ; drop table y', msg: '";" is not accepted: /redshift reads one command, never SQL statements', at: ';' },
  { in: "schema apply core_user'; drop table x; --", msg: "this string is never closed — end it with ' (write '' for a ' inside it)", at: "'" },
  { in: 'modify core_action add column x int encode zstd)', msg: 'unexpected ")" in add column x: expected not null, default, encode, or a comma before the next op', at: ')' },
  // ops: grammar
  { in: 'modify core_action', msg: 'expected an op after core_action: add, drop, rename, alter or set', at: 19 },
  { in: 'modify', msg: 'expected a table name after modify', at: 7 },
  { in: 'modify core_action drop column link,', msg: 'expected an op after ","', at: 37 },
  { in: 'modify core_action drop column link, , drop column opq_id', msg: 'expected an op (add, drop, rename, alter or set), found ","', at: ', d' },
  { in: 'modify core_action drop column link drop column opq_id', msg: 'unexpected drop after drop column link — separate ops with commas', at: ['drop', 1] },
  { in: 'modify core_action delete column link', msg: 'unknown op delete: ops start with add, drop, rename, alter or set', at: 'delete' },
  { in: 'modify core_action dorp column link', msg: 'unknown op dorp — did you mean drop?', at: 'dorp', sug: 'drop' },
  { in: 'modify core_action drop table core_action', msg: 'modify changes a table; it does not drop tables', at: 'table', },
  { in: 'modify core_action rename to core_action2', msg: 'renaming tables is not supported; rename column <name> to <new_name> renames a column', at: 'to', sug: 'rename column' },
  { in: 'modify core_action rename link to link2', msg: 'expected column after rename', at: 'link', sug: 'rename column' },
  { in: 'modify core_action rename column link link2', msg: 'expected to after rename column link', at: 'link2', sug: 'to' },
  { in: 'modify core_action rename column link to', msg: 'expected a new column name after rename column link to', at: 41 },
  { in: 'modify core_action alter column link varchar(64)', msg: 'expected type or encode after alter column link, found varchar', at: 'varchar' },
  { in: 'modify core_action alter column link tpye bigint', msg: 'expected type or encode after alter column link, found tpye — did you mean type?', at: 'tpye', sug: 'type' },
  { in: 'modify core_action alter table core_action add column x int', msg: 'modify already names the table: write modify <table> alter column <name> …', at: 'table' },
  { in: 'modify core_action set key id', msg: 'expected distkey, diststyle or sortkey after set, found key', at: 'key' },
  { in: 'modify core_action set dist_key id', msg: 'expected distkey, diststyle or sortkey after set, found dist_key — did you mean distkey?', at: 'dist_key', sug: 'distkey' },
  { in: 'modify core_action set diststyle key', msg: 'diststyle key needs a column: write set distkey <column>', at: 'key', sug: 'set distkey' },
  { in: 'modify core_action set diststyle evn', msg: 'expected even, all or auto after set diststyle, found evn — did you mean even?', at: 'evn', sug: 'even' },
  { in: 'modify core_action set sortkey user_id', msg: 'put the sort key columns in parentheses: set sortkey (user_id)', at: 'user_id', sug: '(user_id)' },
  { in: 'modify core_action set sortkey interleavd (id)', msg: 'expected compound, interleaved, (columns), none or auto after set sortkey, found interleavd — did you mean interleaved?', at: 'interleavd', sug: 'interleaved' },
  { in: 'modify core_action set sortkey compound id', msg: 'expected ( and the sort key columns after sortkey compound', at: 'id' },
  { in: 'modify core_action set sortkey (id, created_at', msg: 'the sort key column list is never closed: end it with )', at: 47 },
  { in: 'modify core_action set sortkey ()', msg: 'expected a column name after set sortkey (, found ")"', at: ')' },
  { in: 'modify core_action set sortkey (id created_at)', msg: 'expected , or ) in the sort key column list, found created_at', at: 'created_at' },
  { in: 'modify core_action set sortkey', msg: 'expected compound, interleaved, (columns), none or auto after set sortkey', at: 31 },
  // ops: add column
  { in: 'modify core_action add column foo varchr(64)', msg: 'unknown type varchr(64) — did you mean varchar?', at: 'varchr', sug: 'varchar', word: 'varchr(64)' },
  { in: 'modify core_action add column foo intgr', msg: 'unknown type intgr — see /redshift help modify for the types', at: 'intgr' },
  { in: 'modify core_action add column foo integr', msg: 'unknown type integr — did you mean integer?', at: 'integr', sug: 'integer' },
  { in: 'modify core_action add column foo timestmap', msg: 'unknown type timestmap — did you mean timestamp?', at: 'timestmap', sug: 'timestamp' },
  { in: 'modify core_action add column foo blob', msg: 'unknown type blob — see /redshift help modify for the types', at: 'blob' },
  { in: 'modify core_action add column foo int(11)', msg: 'type int takes no length or precision', at: 'int(11)', word: 'int(11)' },
  { in: 'modify core_action add column foo varchar(70000)', msg: 'varchar length 70000 is out of range 1–65535', at: 'varchar' },
  { in: 'modify core_action add column foo varchar(0)', msg: 'varchar length 0 is out of range 1–65535', at: 'varchar' },
  { in: 'modify core_action add column foo numeric(40,2)', msg: 'numeric precision 40 is out of range 1–38', at: 'numeric' },
  { in: "modify core_action add column foo enum('a','b')", msg: "a type's length or precision is a whole number (or max), found 'a'", at: "'a'" },
  { in: 'modify core_action add column foo varchar(64', msg: 'this "(" is never closed', at: '(' },
  { in: 'modify core_action add column foo', msg: 'expected a column type after foo', at: 34 },
  { in: 'modify core_action add column foo not null default 1', msg: 'expected a column type after foo, found not', at: 'not' },
  { in: "modify core_action add column note varchar(9) default 'it's'", msg: "this string ends at ' but text follows it directly — a quote inside a string is written twice ('it''s')", at: "'s", word: "'" },
  { in: 'modify core_action add column note varchar(9) default \u2018it\u2019s\u2019', msg: "this string ends at \u2019 but text follows it directly — a quote inside a string is written twice ('it''s')", at: '\u2019s', word: '\u2019' },
  { in: 'modify core_action dr\u043ep column link', msg: 'keyword dr\u043ep contains "\u043e" (U+043E CYRILLIC SMALL LETTER O) — names are plain ASCII letters, digits and _; did you mean drop?', at: '\u043e', sug: 'drop' },
  { in: "modify core_action add column foo 'int'", msg: 'a type is not quoted: write it as is, e.g. varchar(64)', at: "'int'" },
  { in: 'modify core_action add column link int', msg: 'core_action already has a column link', at: ['link', 0] },
  { in: 'modify core_action add column LINK int', msg: 'core_action already has a column link', at: 'LINK' },
  { in: 'modify core_action add column foo int, add column foo bigint', msg: 'core_action already has a column foo (added earlier in this command)', at: ['foo', 1] },
  { in: 'modify core_action drop column link, add column link bigint', msg: 'column link is dropped earlier in this command; reusing its name in the same command is not supported — run two commands', at: ['link', 1] },
  { in: 'modify core_action add column select int', msg: 'select is a Redshift reserved word; a column named so must be quoted in every query — choose another name (e.g. select_value)', at: 'select', sug: 'select_value' },
  { in: 'modify core_mailing rename column limit_percent to order', msg: 'order is a Redshift reserved word; a column named so must be quoted in every query — choose another name (e.g. order_value)', at: 'order', sug: 'order_value' },
  { in: 'modify core_mailing rename column limit_percent to limit', msg: 'core_mailing already has a column limit', at: ['limit', 1] },
  { in: 'modify core_action add column 1abc int', msg: 'column name 1abc must start with a letter or _', at: '1abc' },
  { in: `modify core_action add column ${'c'.repeat(128)} int`, msg: `column name ${'c'.repeat(39)}… is 128 bytes; Redshift names are at most 127`, at: 'ccc' },
  { in: 'modify core_action add column foo varchar(64) not null', msg: "column foo is not null but has no default: the rows already in core_action would violate it — add default ''", at: 'not', sug: "default ''", word: 'not null' },
  { in: 'modify core_action add column foo int NOT  NULL', msg: 'column foo is not null but has no default: the rows already in core_action would violate it — add default 0', at: 'NOT', sug: 'default 0', word: 'NOT  NULL' },
  { in: 'modify core_action add column foo timestamp not null', msg: 'column foo is not null but has no default: the rows already in core_action would violate it — add default getdate()', at: 'not', sug: 'default getdate()' },
  { in: 'modify core_action add column foo boolean not null default null', msg: 'default NULL contradicts not null — give a value, e.g. default false', at: ['null', 1], sug: 'default false' },
  { in: 'modify core_action add column foo int not default 0', msg: 'expected null after not', at: 'default', sug: 'not null' },
  { in: 'modify core_action add column foo int null not null default 1', msg: 'null / not null is given twice', at: 'not' },
  { in: 'modify core_action add column foo int default 1 default 2', msg: 'default is given twice', at: ['default', 1] },
  { in: 'modify core_action add column foo int encode az64 encode zstd', msg: 'encode is given twice', at: ['encode', 1] },
  { in: 'modify core_action add column foo int defualt 0', msg: 'unexpected defualt in add column foo: expected not null, default, encode, or a comma before the next op — did you mean default?', at: 'defualt', sug: 'default' },
  { in: 'modify core_action add column foo int default', msg: "expected a value after default: NULL, a number, a 'quoted string', true/false or getdate()", at: 46 },
  { in: "modify core_action add column foo integer default 'abc'", msg: "default 'abc' is a string; an integer column needs a number", at: "'abc'" },
  { in: "modify core_action add column foo integer default '12'", msg: "default '12' is a string; an integer column needs a number — write 12 without quotes", at: "'12'", sug: '12' },
  { in: "modify core_action add column foo varchar(3) default 'abcd'", msg: "default 'abcd' is 4 bytes; varchar(3) holds 3", at: "'abcd'" },
  { in: "modify core_action add column foo varchar(4) default 'héllo'", msg: "default 'héllo' is 6 bytes; varchar(4) holds 4", at: "'h" },
  { in: "modify core_action add column foo char(4) default 'hé'", msg: "default 'hé' has multibyte characters; char columns hold single-byte characters only (use varchar)", at: "'h" },
  { in: 'modify core_action add column foo varchar(8) default 12', msg: "default 12 is a number but varchar(8) holds text — quote it: '12'", at: '12', sug: "'12'" },
  { in: 'modify core_action add column foo varchar(8) default true', msg: "default true is a boolean but varchar(8) holds text — quote it: 'true'", at: 'true', sug: "'true'" },
  { in: 'modify core_action add column foo smallint default 40000', msg: 'default 40000 is out of range for smallint (-32768 to 32767)', at: '40000' },
  { in: 'modify core_action add column foo int default 1.5', msg: 'default 1.5 is not a whole number; integer holds whole numbers', at: '1.5' },
  { in: 'modify core_action add column foo int default 2.00', msg: 'default 2.00 is not written as a whole number; integer holds whole numbers — write 2', at: '2.00', sug: '2' },
  { in: 'modify core_action add column foo numeric(5,2) default 1234.5', msg: 'default 1234.5 has 4 digits before the point; numeric(5,2) allows 3', at: '1234.5' },
  { in: 'modify core_action add column foo numeric(5,2) default 1.234', msg: 'default 1.234 has 3 decimals; numeric(5,2) keeps 2', at: '1.234' },
  { in: 'modify core_action add column foo int default 1e5', msg: 'write a number as digits with an optional decimal point (e.g. 0.5, -12)', at: '1e5' },
  { in: 'modify core_action add column foo real default .5', msg: 'write a number as digits with an optional decimal point (e.g. 0.5, -12)', at: '.5' },
  { in: 'modify core_action add column foo boolean default 1', msg: 'default 1 is a number but the column is boolean — write true', at: '1', sug: 'true' },
  { in: "modify core_action add column foo boolean default 'true'", msg: "default 'true' is a string; write true without quotes for a boolean", at: "'true'", sug: 'true' },
  { in: 'modify core_action add column foo int default getdate()', msg: 'default getdate() is the current time; it fits timestamp, timestamptz and date columns, not integer', at: 'getdate' },
  { in: 'modify core_action add column foo timestamp default getdate', msg: 'write getdate() with its parentheses', at: 'getdate', sug: 'getdate()' },
  { in: "modify core_action add column foo date default '2023-02-29'", msg: "default '2023-02-29' is not a date (write 'YYYY-MM-DD')", at: "'2023" },
  { in: "modify core_action add column foo timestamp default 'yesterday'", msg: "default 'yesterday' is not a timestamp (write 'YYYY-MM-DD HH:MM:SS')", at: "'y" },
  { in: "modify core_action add column foo super default '{}'", msg: 'a super column takes only NULL as a default here', at: "'{}'" },
  { in: 'modify core_action add column foo int encode text255', msg: 'encoding text255 does not apply to integer columns (these do: raw, az64, bytedict, delta, delta32k, lzo, mostly8, mostly16, runlength, zstd)', at: 'text255' },
  { in: 'modify core_action add column foo boolean encode az64', msg: 'encoding az64 does not apply to boolean columns (these do: raw, runlength, zstd)', at: 'az64' },
  { in: 'modify core_action add column foo int encode zstdd', msg: 'unknown encoding zstdd — did you mean zstd?', at: 'zstdd', sug: 'zstd' },
  { in: 'modify core_action add column foo int encode auto', msg: 'unknown encoding auto (encodings: raw, az64, bytedict, delta, delta32k, lzo, mostly8, mostly16, mostly32, runlength, text255, text32k, zstd)', at: 'auto' },
  { in: 'modify core_action add column foo int encode', msg: 'expected an encoding after encode (raw, az64, bytedict, delta, delta32k, lzo, mostly8, mostly16, mostly32, runlength, text255, text32k, zstd)', at: 45 },
  // ops: drop / rename / alter against the registry and each other
  { in: 'modify core_action drop column creatd_at', msg: 'no column creatd_at in core_action — did you mean created_at?', at: 'creatd_at', sug: 'created_at' },
  { in: 'modify core_action drop column nothing_like_it', msg: 'no column nothing_like_it in core_action', at: 'nothing' },
  { in: 'modify core_mailing drop column limt', msg: 'no column limt in core_mailing — did you mean limit?', at: 'limt', sug: 'limit' },
  { in: 'modify core_action drop column id', msg: 'column id is the distribution key of core_action: dropping it needs a new one in the same command — add set distkey <column> or set diststyle even|all|auto', at: 'id' },
  {
    in: 'modify core_action drop column id, set distkey user_id',
    msg: 'column id is in the sort key of core_action (interleaved (id, created_at, user_id, page_id, mailing_id, created_user, source)): dropping it needs a new sort key in the same command — e.g. set sortkey interleaved (created_at, user_id, page_id, mailing_id, created_user, source)',
    at: 'id',
    sug: 'set sortkey interleaved (created_at, user_id, page_id, mailing_id, created_user, source)',
  },
  {
    in: 'modify core_action set distkey user_id, drop column user_id, set sortkey none',
    msg: 'column user_id is the distribution key of core_action: dropping it needs a new one in the same command — add set distkey <column> or set diststyle even|all|auto',
    at: ['user_id', 1],
  },
  {
    in: 'modify ops.audit_event drop column happened_at',
    msg: 'column happened_at is in the sort key of audit_event (compound (happened_at)): dropping it needs a new sort key in the same command — e.g. set sortkey none',
    at: 'happened_at',
    sug: 'set sortkey none',
  },
  { in: 'modify core_tag drop column id', msg: 'id is the last column of core_tag; a table needs at least one column', at: 'id' },
  { in: 'modify core_action drop column link, drop column link', msg: 'no column link in core_action: it is dropped earlier in this command', at: ['link', 1] },
  { in: 'modify core_action drop column link, alter column link type bigint', msg: 'no column link in core_action: it is dropped earlier in this command', at: ['link', 1] },
  { in: 'modify core_action alter column link type bigint, drop column link', msg: 'column link is given a new type earlier in this command; dropping it too makes no sense — remove one of the two ops', at: ['link', 1] },
  { in: 'modify core_action alter column link encode zstd, drop column link', msg: 'column link is given a new encoding earlier in this command; dropping it too makes no sense — remove one of the two ops', at: ['link', 1] },
  { in: 'modify core_action add column foo int, drop column foo', msg: 'column foo is added earlier in this command; dropping it too makes no sense — remove one of the two ops', at: ['foo', 1] },
  { in: 'modify core_action rename column link to link2, drop column link2', msg: 'column link2 is renamed from link earlier in this command; dropping it too makes no sense — remove one of the two ops', at: ['link2', 1] },
  { in: 'modify core_user rename column email to e_mail, rename column e_mail to mail', msg: 'column e_mail is already renamed in this command (from email); rename it once', at: ['e_mail', 1] },
  { in: 'modify core_user rename column email to e_mail, rename column email to mail', msg: 'no column email in core_user: it is renamed to e_mail earlier in this command', at: ['email', 1] },
  { in: 'modify core_user rename column email to city', msg: 'core_user already has a column city', at: 'city' },
  { in: 'modify core_user rename column email to email', msg: 'column email already has that name — nothing to change', at: ['email', 1] },
  { in: 'modify core_user rename column email to e-mail', msg: '"-" is not allowed in a new column name (e-mail): names are letters, digits and _', at: '-' },
  { in: 'modify core_user add column foo int, rename column foo to bar', msg: 'column foo is added in this command: give it the name you want in add column', at: ['foo', 1] },
  { in: 'modify core_action alter column source type varchar(765)', msg: 'column source is already varchar(765) — nothing to change', at: 'varchar' },
  { in: 'modify core_action alter column link type int4', msg: 'column link is already integer — nothing to change', at: 'int4' },
  { in: 'modify core_action alter column link type bigint, alter column link type numeric(20,0)', msg: 'the type of link is already changed earlier in this command', at: ['link', 1] },
  { in: 'modify core_action alter column source encode lzo', msg: 'column source is already encoded lzo — nothing to change', at: ['lzo', 0] },
  { in: 'modify core_action alter column link encode zstd, alter column link encode az64', msg: 'the encoding of link is already changed earlier in this command', at: ['link', 1] },
  { in: 'modify core_action add column foo int, alter column foo type bigint', msg: 'column foo is added in this command: give its type in add column', at: ['foo', 1] },
  { in: 'modify core_page alter column notes type integer', msg: "column notes has default '''', which does not fit integer: default '''' is a string; an integer column needs a number", at: 'integer' },
  { in: 'modify core_action alter column status type boolean', msg: 'column status: encoding bytedict does not apply to boolean columns (these do: raw, runlength, zstd) — also alter its encoding in this command', at: 'boolean' },
  { in: 'modify core_action alter column source encode az64', msg: 'column source: encoding az64 does not apply to varchar(765) columns (these do: raw, bytedict, lzo, runlength, text255, text32k, zstd)', at: 'az64' },
  { in: 'modify core_action alter column created_at type varchar(30)', msg: 'column created_at: encoding az64 does not apply to varchar(30) columns (these do: raw, bytedict, lzo, runlength, text255, text32k, zstd) — also alter its encoding in this command', at: 'varchar' },
  // ops: keys
  { in: 'modify core_action set distkey id', msg: 'id is already the distribution key of core_action — nothing to change', at: 'id' },
  { in: 'modify core_action set distkey usr_id', msg: 'no column usr_id in core_action — did you mean user_id?', at: 'usr_id', sug: 'user_id' },
  { in: 'modify core_tag set diststyle all', msg: 'core_tag already has diststyle all — nothing to change', at: 'all' },
  { in: 'modify core_action set distkey user_id, set diststyle even', msg: 'the distribution is already set earlier in this command; set it once', at: 'diststyle' },
  { in: 'modify ops.audit_event set distkey payload', msg: 'column payload is super; Redshift cannot use that type in a distribution key', at: 'payload' },
  { in: 'modify ops.audit_event set sortkey (id, payload)', msg: 'column payload is super; Redshift cannot use that type in a sort key', at: 'payload' },
  { in: 'modify core_action set sortkey (id, id)', msg: 'column id appears twice in the sort key', at: ['id', 1] },
  { in: 'modify core_action set sortkey (id, ID)', msg: 'column id appears twice in the sort key', at: 'ID' },
  {
    in: 'modify core_action set sortkey interleaved (id, created_at, user_id, page_id, mailing_id, created_user, source, status, link)',
    msg: 'an interleaved sort key has at most 8 columns',
    at: 'link',
  },
  {
    in: 'modify core_action set sortkey interleaved (id, created_at, user_id, page_id, mailing_id, created_user, source)',
    msg: 'core_action already has sortkey interleaved (id, created_at, user_id, page_id, mailing_id, created_user, source) — nothing to change',
    at: 'sortkey',
  },
  { in: 'modify ops.audit_event set sortkey (happened_at)', msg: 'audit_event already has sortkey compound (happened_at) — nothing to change', at: 'sortkey' },
  { in: 'modify core_tag set sortkey none', msg: 'core_tag already has sortkey none — nothing to change', at: 'none' },
  { in: 'modify core_action set sortkey none, set sortkey auto', msg: 'the sort key is already set earlier in this command; set it once', at: ['sortkey', 1] },
  // options
  { in: 'modify core_action drop column link --dryrun', msg: 'unknown option --dryrun for modify — did you mean --dry-run?', at: '--dryrun', sug: '--dry-run' },
  { in: 'modify core_action drop column link -dry-run', msg: 'options start with two hyphens: --dry-run', at: '-dry', sug: '--dry-run' },
  { in: 'modify core_action drop column link --dry-run --dry-run', msg: '--dry-run is given twice', at: ['--dry-run', 1] },
  { in: 'modify core_action drop column link --dry-run=yes', msg: '--dry-run takes no value', at: '--dry', sug: '--dry-run' },
  { in: 'modify core_action drop column link --strategy', msg: '--strategy needs a value: live-copy or rename-first', at: '--strategy' },
  { in: 'modify core_action drop column link --strategy live', msg: '--strategy is live-copy or rename-first, not live', at: 'live' },
  { in: 'modify core_action drop column link --strategy=livecopy', msg: '--strategy is live-copy or rename-first, not livecopy — did you mean live-copy?', at: '--strategy', sug: 'live-copy' },
  { in: 'modify core_usermailing set distkey mailing_id --strategy live-copy', msg: '--strategy applies to cdc tables; core_usermailing is replicated by DMS (task flydata-core-usermailing), which is stopped for the swap', at: '--strategy' },
  { in: 'modify core_action drop column link \u2014', msg: '"\u2014" is not an option; options of modify: --dry-run, --deep-copy, --force-drift, --strategy', at: '\u2014' },
  { in: 'status --dry-run', msg: 'status takes no options (found --dry-run)', at: '--dry-run' },
  { in: 'jobs --all', msg: 'jobs takes no options (found --all)', at: '--all' },
  { in: 'recover core_action --force', msg: 'unknown option --force for recover; options: --dry-run', at: '--force' },
  { in: 'setup now', msg: 'unexpected now: setup takes no arguments', at: 'now' },
  { in: 'jobs core_action', msg: 'unexpected core_action: jobs takes no arguments (job <id> shows one job)', at: 'core_action' },
  { in: 'recover', msg: 'expected a table name after recover', at: 8 },
  { in: 'unlock core_action core_user', msg: 'unexpected core_user: unlock takes one table', at: 'core_user' },
  // schema
  { in: 'schema', msg: 'expected diff or apply after schema at the end', at: 7 },
  { in: 'schema dif', msg: 'expected diff or apply after schema, found dif — did you mean diff?', at: 'dif', sug: 'diff' },
  { in: 'schema diff --dry-run', msg: '--dry-run applies to schema apply, not schema diff', at: '--dry-run' },
  { in: 'schema diff core_user core_page', msg: 'unexpected core_page: schema diff takes at most one table', at: 'core_page' },
  { in: 'schema apply', msg: 'schema apply needs the tables to apply, or --all', at: 13 },
  { in: 'schema apply --dry-run', msg: 'schema apply needs the tables to apply, or --all', at: 23 },
  { in: 'schema apply --all core_user', msg: '--all and a list of tables exclude each other: give one or the other', at: 'core_user' },
  { in: 'schema apply core_user core_user', msg: 'core_user is listed twice', at: ['core_user', 1] },
  { in: 'schema apply core_user, core_usr', msg: 'unknown table core_usr — did you mean core_user?', at: 'core_usr', sug: 'core_user' },
];

describe('errors', () => {
  it.each(ERRORS.map((c) => [c.in.length > 70 ? `${c.in.slice(0, 67)}…` : c.in, c] as const))('%s', (_name, c) => {
    expectError(c);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Hostile input: never a crash, never a Command

/** A small deterministic PRNG so the fuzz cases are the same on every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('hostile input', () => {
  const INJECTIONS = ['; drop table x', "'; drop table x; --", '"; drop table x; --', '/* */', '--', ') or (1=1', '\u0000', '`; drop table x`', '$$ drop $$'];
  const BASES = [
    'status core_action',
    'modify core_action add column foo varchar(64) default \'x\' encode zstd',
    'modify core_action rename column link to link2, set sortkey (id, created_at)',
    'schema apply core_user core_page --dry-run',
    'job 42',
  ];

  it('SQL spliced in at every word boundary is refused (never a Command)', () => {
    let cases = 0;
    for (const base of BASES) {
      const cuts = [...base.matchAll(/ |$/g)].map((m) => m.index);
      for (const cut of cuts) {
        for (const inj of INJECTIONS) {
          const text = `${base.slice(0, cut)} ${inj}${base.slice(cut)}`;
          const r = parse(text);
          expect(r.ok, text).toBe(false);
          if (!r.ok) {
            expect(r.error.column).toBeGreaterThanOrEqual(1);
            expect(r.error.column).toBeLessThanOrEqual(text.length + 1);
            expect(formatCommandError(text, r.error)).toContain(r.error.message);
          }
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(200);
  });

  it('random bytes and random token soup never throw; anything accepted validates', () => {
    const rnd = prng(42);
    const vocab = ['modify', 'core_action', 'add', 'column', 'drop', 'set', 'sortkey', '(', ')', ',', 'id', 'varchar(64)', 'default', "'x'", '--dry-run', 'not', 'null', 'rename', 'to', 'foo', 'interleaved', 'user_id', 'status', 'schema', 'apply', ';', '"', '\u2018', '\u00a0', '\u0430', 'limit'];
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      let text: string;
      if (i % 2 === 0) {
        const n = Math.floor(rnd() * 40);
        text = Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * (rnd() < 0.8 ? 128 : 0x3000)))).join('');
      } else {
        const n = 1 + Math.floor(rnd() * 12);
        text = Array.from({ length: n }, () => vocab[Math.floor(rnd() * vocab.length)]!).join(rnd() < 0.5 ? ' ' : '');
      }
      const r = parse(text); // parseCommand catches everything: a throw here fails the test
      if (r.ok) {
        accepted++;
        expect(commandSchema.safeParse(r.command).success).toBe(true);
        expect(commandSummary(r.command)).not.toMatch(/[;"\u0000]/);
      } else {
        expect(r.error.column).toBeGreaterThanOrEqual(1);
        expect(r.error.column).toBeLessThanOrEqual(text.length + 1);
        expect(formatCommandError(text, r.error)).toContain(r.error.message.slice(0, 20));
        expect(formatCommandError(text, r.error, { slack: true }).startsWith('```')).toBe(true);
      }
    }
    expect(accepted).toBeLessThan(1500);
  });

  it('10 kB of input is refused at the limit, whatever it contains', () => {
    for (const filler of ['a', ' ', ';', '\u0000', "'", '\u0430', 'drop column x, ']) {
      const text = `modify core_action ${filler.repeat(Math.ceil(10_240 / filler.length))}`;
      const r = parse(text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.message).toMatch(/^the command is 10,\d{3} characters long; \/redshift takes at most 4,000/);
        expect(r.error.column).toBe(4001);
        expect(formatCommandError(text, r.error).split('\n').every((l) => l.length < 200)).toBe(true);
      }
    }
  });

  it('exactly 4,000 characters is still read', () => {
    const text = `status core_action${' '.repeat(4000 - 'status core_action'.length)}`;
    expect(text.length).toBe(4000);
    expect(parse(text)).toEqual({ ok: true, command: { kind: 'status', table: T('core_action') } });
  });

  it('non-string input and a throwing registry give error values', () => {
    expect(parseCommand(undefined as unknown as string, { registry }).ok).toBe(false);
    const broken: RegistryLike = {
      defaultSchema: 'ak_sumofus',
      get: () => {
        throw new Error('registry exploded');
      },
      find: () => {
        throw new Error('registry exploded');
      },
      names: () => [],
    };
    const r = parseCommand('status core_action', { registry: broken });
    expect(r).toEqual({ ok: false, error: { message: 'internal error while reading the command: registry exploded — please report it', column: 1 } });
  });

  it('no Command ever carries a name that is not a plain identifier or a registry name', () => {
    const r = parse('modify core_action add column Robert_Tables varchar(64), rename column link to "x"');
    expect(r.ok).toBe(false);
    const ok = expectCommand('modify core_action add column Robert_Tables varchar(64)', M('core_action', [add('robert_tables', 'varchar(64)')]));
    expect(JSON.stringify(ok)).toContain('robert_tables');
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Formatting errors

describe('formatCommandError', () => {
  it('puts a caret under the offending word, with the usage', () => {
    const text = 'status core_actoin';
    const r = parse(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatCommandError(text, r.error)).toBe(
      [
        'unknown table core_actoin — did you mean core_action?',
        '  /redshift status core_actoin',
        '                   ^^^^^^^^^^^',
        'usage: status [table]',
      ].join('\n'),
    );
  });

  it('keeps the caret aligned when the input already starts with /redshift', () => {
    const text = '/redshift modify core_action add column foo varchr(64)';
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    expect(formatCommandError(text, r.error)).toBe(
      [
        'unknown type varchr(64) — did you mean varchar?',
        '  /redshift modify core_action add column foo varchr(64)',
        '                                              ^^^^^^^^^^',
        `usage: ${ADD_USAGE}`,
      ].join('\n'),
    );
  });

  it('points past the end when something is missing', () => {
    const text = 'job';
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    expect(formatCommandError(text, r.error)).toBe(['expected a job id after job (jobs lists them)', '  /redshift job', '               ^', 'usage: job <id>'].join('\n'));
  });

  it('shows control characters and invisible characters as one visible character each', () => {
    const text = 'status core_action\u0000';
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    const lines = formatCommandError(text, r.error).split('\n');
    expect(lines[1]).toBe('  /redshift status core_action\u2400');
    expect(lines[2]).toBe(`  ${' '.repeat('/redshift status core_action'.length)}^`);
    const zw = 'status core_\u200baction';
    const r2 = parse(zw);
    if (r2.ok) throw new Error('expected an error');
    const lines2 = formatCommandError(zw, r2.error).split('\n');
    expect(lines2[1]).toBe('  /redshift status core_\ufffdaction');
    expect(lines2[2]).toBe(`  ${' '.repeat('/redshift status core_'.length)}^`);
  });

  it('shows only the line of a multi-line input that holds the error', () => {
    const text = 'modify core_action\n  drop column link,\n  drop column nope';
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    expect(r.error.column).toBe(text.indexOf('nope') + 1);
    const lines = formatCommandError(text, r.error).split('\n');
    expect(lines.slice(1, 3)).toEqual(['    drop column nope', '                ^^^^']);
  });

  it('cuts a long line to a window around the error', () => {
    const cols = Array.from({ length: 8 }, (_, i) => `alter column ${['link', 'opq_id', 'source', 'status', 'ip_address', 'user_id', 'page_id', 'mailing_id'][i]} encode zstd`);
    const text = `modify core_action ${cols.join(', ')}, drop column nope`;
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    const out = formatCommandError(text, r.error, { width: 60 }).split('\n');
    expect(out[1]!.startsWith('  …')).toBe(true);
    expect(out[1]!.length).toBeLessThanOrEqual(2 + 60 + 2);
    const caret = out[2]!.indexOf('^');
    expect(out[1]!.slice(caret, caret + 4)).toBe('nope');
    expect(out[2]!.trim()).toBe('^^^^');
  });

  it('escapes for Slack and wraps in a code block that user text cannot close', () => {
    const text = 'status <@U123> ```';
    const r = parse(text);
    if (r.ok) throw new Error('expected an error');
    const out = formatCommandError(text, r.error, { slack: true });
    expect(out.startsWith('```\n')).toBe(true);
    expect(out.endsWith('\n```')).toBe(true);
    expect(out.slice(4, -4)).not.toContain('`');
    expect(out).not.toMatch(/<|>/);
    expect(out).toContain('&lt;@U123&gt;');
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// isChanging, commandSummary

describe('isChanging and commandSummary', () => {
  const CASES: Array<[string, boolean, string]> = [
    ['help', false, 'help'],
    ['help modify', false, 'help modify'],
    ['status', false, 'status'],
    ['status core_action', false, 'status ak_sumofus.core_action'],
    ['modify core_action drop column link', true, 'modify ak_sumofus.core_action drop column link'],
    ['modify core_action drop column link --dry-run', false, 'modify ak_sumofus.core_action drop column link --dry-run'],
    ['plan core_action drop column link', false, 'modify ak_sumofus.core_action drop column link --dry-run'],
    [
      "modify core_action add column note varchar(64) NOT NULL DEFAULT 'it''s' ENCODE zstd, set sortkey interleaved (id, user_id) --strategy live-copy --force-drift --deep-copy",
      true,
      "modify ak_sumofus.core_action add column note varchar(64) not null default 'it''s' encode zstd, set sortkey interleaved (id, user_id) --deep-copy --force-drift --strategy live-copy",
    ],
    ['modify core_action set diststyle even, drop column id, set sortkey none', true, 'modify ak_sumofus.core_action set diststyle even, drop column id, set sortkey none'],
    ['recover core_action', true, 'recover ak_sumofus.core_action'],
    ['recover core_action --dry-run', false, 'recover ak_sumofus.core_action --dry-run'],
    ['setup', true, 'setup'],
    ['setup --dry-run', false, 'setup --dry-run'],
    ['jobs', false, 'jobs'],
    ['job #9', false, 'job 9'],
    ['cancel 9', true, 'cancel 9'],
    ['rollback 9', true, 'rollback 9'],
    ['unlock core_page', true, 'unlock ak_sumofus.core_page'],
    ['schema diff', false, 'schema diff'],
    ['schema diff core_user', false, 'schema diff ak_sumofus.core_user'],
    ['schema apply core_user, core_page', true, 'schema apply ak_sumofus.core_user ak_sumofus.core_page'],
    ['schema apply --all --dry-run', false, 'schema apply --all --dry-run'],
  ];
  it.each(CASES)('%s', (text, changing, summary) => {
    const r = parse(text);
    if (!r.ok) throw new Error(formatCommandError(text, r.error));
    expect(isChanging(r.command)).toBe(changing);
    expect(commandSummary(r.command)).toBe(summary);
    const back = parse(commandSummary(r.command));
    expect(back.ok && back.command).toEqual(r.command);
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// commandSchema (what the queue re-validates)

describe('commandSchema', () => {
  it('refuses job data a parser would never produce', () => {
    const bad: unknown[] = [
      { kind: 'modify', table: T('core_action'), ops: [], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'add_column', column: { name: 'x; drop', type: 'integer' } }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'add_column', column: { name: 'limit', type: 'integer' } }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'add_column', column: { name: 'x', type: 'blob' } }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'add_column', column: { name: 'x', type: 'int', default: '1; drop table y' } }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'add_column', column: { name: 'x', type: 'int', notNull: true } }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'rename_column', from: 'link', to: 'Bad Name' }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'set_sortkey', style: 'INTERLEAVED', columns: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'set_sortkey', style: 'NONE', columns: ['a'] }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'set_diststyle', style: 'KEY' }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'drop_column', column: 'link' }], dryRun: false, deepCopy: false, forceDrift: false, strategy: 'yolo' },
      { kind: 'modify', table: T('core_action'), ops: [{ op: 'drop_column', column: 'link', extra: 1 }], dryRun: false, deepCopy: false, forceDrift: false },
      { kind: 'job', id: '1; drop' },
      { kind: 'schema-apply', all: true, tables: [T('core_user')], dryRun: false },
      { kind: 'schema-apply', all: false, tables: [], dryRun: false },
      { kind: 'nope' },
    ];
    for (const b of bad) expect(commandSchema.safeParse(b).success, JSON.stringify(b)).toBe(false);
  });

  it('accepts the canonical form of types and defaults it stores', () => {
    const cmd = { kind: 'modify', table: T('core_action'), ops: [add('n', 'int4', { default: "'x'" })], dryRun: false, deepCopy: false, forceDrift: false };
    const r = commandSchema.parse(cmd);
    expect(r.kind === 'modify' && r.ops[0]).toEqual(add('n', 'integer', { default: "'x'" }));
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Help

describe('help', () => {
  it('lists every command with its usage and summary', () => {
    const text = renderHelp();
    for (const c of COMMANDS) {
      for (const u of c.usage) expect(text).toContain(u);
      expect(text).toContain(c.summaries?.[0] ?? c.summary);
    }
    expect(COMMANDS.map((c) => c.name)).toEqual(['help', 'status', 'hygiene', 'modify', 'plan', 'recover', 'setup', 'compare', 'jobs', 'job', 'cancel', 'rollback', 'unlock', 'schema']);
  });

  it('compare <table>|--all: read-only, one table or every table, never both', () => {
    const ctx = { registry };
    const one = parseCommand('compare core_user', ctx);
    expect(one).toEqual({ ok: true, command: { kind: 'compare', all: false, table: { schema: 'ak_sumofus', name: 'core_user' } } });
    expect(parseCommand('compare --all', ctx)).toEqual({ ok: true, command: { kind: 'compare', all: true } });
    const both = parseCommand('compare --all core_user', ctx);
    expect(both.ok).toBe(false);
    expect(!both.ok && both.error.message).toBe('--all and a table exclude each other: give one or the other');
    const none = parseCommand('compare', ctx);
    expect(!none.ok && none.error.message).toBe('compare needs a table, or --all');
    const typo = parseCommand('compare core_usr', ctx);
    expect(!typo.ok && typo.error.message).toMatch(/core_user/);
    if (one.ok) {
      expect(isChanging(one.command)).toBe(false);
      expect(commandSummary(one.command)).toBe('compare ak_sumofus.core_user');
    }
    const diff = parseCommand('schema diff core_user --source', ctx);
    expect(diff).toEqual({ ok: true, command: { kind: 'schema-diff', table: { schema: 'ak_sumofus', name: 'core_user' }, source: true } });
    expect(diff.ok && commandSummary(diff.command)).toBe('schema diff ak_sumofus.core_user --source');
    const applySource = parseCommand('schema apply core_user --source', ctx);
    expect(!applySource.ok && applySource.error.message).toBe('--source applies to schema diff, not schema apply (the warehouse is built from schemas/)');
  });

  it('help modify shows the grammar of every op with examples, the options and the types', () => {
    const text = renderHelp('modify');
    for (const op of OP_DEFINITIONS) {
      expect(text).toContain(op.usage);
      for (const ex of op.examples) expect(text).toContain(`e.g. ${ex}`);
    }
    for (const f of ['--dry-run', '--deep-copy', '--force-drift', '--strategy live-copy|rename-first']) expect(text).toContain(f);
    expect(text).toContain('varchar(n|max)');
    expect(text).toContain('Encodings: raw, az64');
    expect(renderHelp('plan')).toContain(OP_DEFINITIONS[0]!.usage);
    expect(renderHelp('nonsense')).toBe(renderHelp());
  });

  it('every example in the help parses (command examples, and op examples on a table that fits them)', () => {
    for (const c of COMMANDS) {
      for (const ex of c.examples) {
        const r = parse(ex);
        expect(r.ok, `${ex}: ${r.ok ? '' : r.error.message}`).toBe(true);
        expect(renderHelp(c.name)).toContain(`/redshift ${ex}`);
      }
    }
    const opTable: Record<string, string> = { 'set distkey': 'core_action' };
    for (const op of OP_DEFINITIONS) {
      for (const ex of op.examples) {
        const text = `plan ${opTable[op.name] ?? 'core_action'} ${ex}`;
        const r = parse(text);
        expect(r.ok, `${text}: ${r.ok ? '' : r.error.message}`).toBe(true);
      }
    }
  });

  it('help for each command names its options', () => {
    for (const c of COMMANDS) {
      const text = renderHelp(c.name);
      for (const f of c.flags ?? []) expect(text).toContain(f.name);
      expect(text.split('\n')[0]).toBe(c.usage[0]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------------
// Against the real schemas/ (helper A's registry)

describe('real registry (schemas/)', async () => {
  const real = await loadRegistry();
  const parseReal = (text: string) => parseCommand(text, { registry: real });

  const REAL_VALID: Array<[string, Command]> = [
    ['status core_action', { kind: 'status', table: T('core_action') }],
    ['status share_click', { kind: 'status', table: T('share_click') }],
    ['modify core_mailing drop column limit', M('core_mailing', [drop('limit')])],
    ['modify core_mailing rename column limit to row_limit, rename column text to body_text', M('core_mailing', [rename('limit', 'row_limit'), rename('text', 'body_text')])],
    ['modify core_mailing set sortkey (limit, id)', M('core_mailing', [sortkey('COMPOUND', ['limit', 'id'])])],
    ['modify core_user add column phone_verified boolean not null default false', M('core_user', [add('phone_verified', 'boolean', { notNull: true, default: 'false' })])],
    ['modify core_usermailing set distkey mailing_id --dry-run', M('core_usermailing', [distkey('mailing_id')], { dryRun: true })],
    ['modify core_userfield alter column name type varchar(1024)', M('core_userfield', [alterType('name', 'varchar(1024)')])],
    ['recover core_usermailing', { kind: 'recover', table: T('core_usermailing'), dryRun: false }],
    ['schema apply --all --dry-run', { kind: 'schema-apply', all: true, tables: [], dryRun: true }],
  ];

  it.each(REAL_VALID)('%s', (text, want) => {
    const r = parseReal(text);
    if (!r.ok) throw new Error(formatCommandError(text, r.error));
    expect(r.command).toEqual(want);
  });

  const REAL_ERRORS: Array<[string, string, string | undefined]> = [
    ['status core_actoin', 'unknown table core_actoin — did you mean core_action?', 'core_action'],
    ['status core_\u0430ction', 'table name core_\u0430ction contains "\u0430" (U+0430 CYRILLIC SMALL LETTER A) — names are plain ASCII letters, digits and _; did you mean core_action?', 'core_action'],
    ['modify core_mailing drop column limt', 'no column limt in core_mailing — did you mean limit?', 'limit'],
    ['modify core_mailing add column limit int', 'core_mailing already has a column limit', undefined],
    ['modify core_usermailing drop column user_id', 'column user_id is the distribution key of core_usermailing: dropping it needs a new one in the same command — add set distkey <column> or set diststyle even|all|auto', undefined],
    ['modify core_usermailing set distkey mailing_id --strategy rename-first', '--strategy applies to cdc tables; core_usermailing is replicated by DMS (task flydata-core-usermailing), which is stopped for the swap', undefined],
    ['modify core_action add column foo varchar(64) not null', "column foo is not null but has no default: the rows already in core_action would violate it — add default ''", "default ''"],
    ['modify core_userfield alter column value type varchar(max)', 'column value is already varchar(65535) — nothing to change', undefined],
    ['modify core_mailing rename column limit_percent to offset', 'offset is a Redshift reserved word; a column named so must be quoted in every query — choose another name (e.g. offset_value)', 'offset_value'],
    ['modify core_page alter column notes type integer', "column notes has default '''', which does not fit integer: default '''' is a string; an integer column needs a number", undefined],
  ];

  it.each(REAL_ERRORS)('%s', (text, msg, sug) => {
    const r = parseReal(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe(msg);
    expect(r.error.suggestion).toBe(sug);
  });

  it('every help example parses against the real registry', () => {
    for (const c of COMMANDS) for (const ex of c.examples) expect(parseReal(ex).ok, ex).toBe(true);
  });

  it('every table of schemas/ can be named, bare and qualified', () => {
    const names = real.names();
    expect(names.length).toBe(26);
    for (const n of names) {
      expect(parseReal(`status ${n}`)).toEqual({ ok: true, command: { kind: 'status', table: T(n) } });
      expect(parseReal(`status ${real.defaultSchema}.${n.toUpperCase()}`)).toEqual({ ok: true, command: { kind: 'status', table: T(n) } });
    }
  });
});
