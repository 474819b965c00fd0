/**
 * `schema apply` / `schema diff` end to end: the CLI (in-process and once as a child process) → the real AWS SDK client →
 * the loopback sandbox's Data API → PostgreSQL, and the same on embedded PGlite. The 26 ak_sumofus tables of schemas/ are
 * created, read back through the catalog, compared, and changed behind the bot's back.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { readTable, readTables } from '../../src/schema/catalog.js';
import { diffTable } from '../../src/schema/diff.js';
import { loadRegistry, type Registry } from '../../src/schema/registry.js';
import { createWarehouse } from '../../src/warehouse/redshift-data.js';
import { TARGET, waitDone, withSandbox, type SandboxBackend } from '../support/sandbox.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface CliRun {
  code: number;
  out: string[];
  err: string[];
}

function cliEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, REDSHIFT_CLUSTER_ID: 'sandbox-cluster', REDSHIFT_DB_USER: 'awsuser', SCHEMAS_DIR: 'schemas' };
}

async function cli(endpoint: string, ...argv: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(...l.split('\n')), err: (l) => err.push(...l.split('\n')), env: cliEnv(endpoint), cwd: REPO });
  return { code, out, err };
}

function spawnCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out: stdout.split('\n'), err: stderr.split('\n') }));
  });
}

describe.each<SandboxBackend>(['postgres', 'pglite'])('schema apply / diff on the %s sandbox', (backend) => {
  const sb = withSandbox(backend, { purpose: 'schema_apply' });
  let registry: Registry;

  beforeAll(async () => {
    registry = await loadRegistry(path.join(REPO, 'schemas'));
    expect(registry.names()).toHaveLength(26);
  });

  const liveTables = async (): Promise<string[]> =>
    (
      await sb.sandbox.sql(
        `select table_name from information_schema.tables where table_schema = 'ak_sumofus' and table_type = 'BASE TABLE' order by table_name`,
      )
    ).rows.map((r) => String(r.table_name));

  it('refuses a table whose referenced tables are missing, and a dry run changes nothing', async () => {
    const one = await cli(sb.sandbox.endpoint, 'schema', 'apply', 'core_action');
    expect(one.code).toBe(2);
    expect(one.err.join('\n')).toMatch(/ak_sumofus\.core_action references ak_sumofus\.core_mailing, which is not in the warehouse.*apply .*core_user.* in the same run \(or use --all\)/);

    const typo = await cli(sb.sandbox.endpoint, 'schema', 'apply', 'core_actoin');
    expect(typo.code).toBe(2);
    expect(typo.err.join('\n')).toContain('did you mean core_action?');

    const dry = await cli(sb.sandbox.endpoint, 'schema', 'apply', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out.filter((l) => / would create$/.test(l))).toHaveLength(26);
    expect(dry.out).toContain('CREATE TABLE ak_sumofus.core_action (');
    expect(dry.out.at(-1)).toBe('dry run: would create 26 of 26 tables (nothing was changed)');
    expect(await liveTables()).toEqual([]);
  });

  it('schema apply --all creates all 26 tables, referenced tables first', async () => {
    const r = await cli(sb.sandbox.endpoint, 'schema', 'apply', '--all');
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('schema ak_sumofus: created');
    const created = r.out.filter((l) => l.endsWith(': created') && l.startsWith('ak_sumofus.')).map((l) => l.slice('ak_sumofus.'.length, -': created'.length));
    expect([...created].sort()).toEqual(registry.names());
    // every table comes after the tables its foreign keys reference
    for (const name of created) {
      for (const fk of registry.find(name)!.foreignKeys)
        if (fk.references.table !== name) expect(created.indexOf(fk.references.table), `${fk.references.table} before ${name}`).toBeLessThan(created.indexOf(name));
    }
    expect(r.out.at(-1)).toBe('created 26 of 26 tables');

    // straight from the database, not through the bot
    expect(await liveTables()).toEqual(registry.names());
    const cols = await sb.sandbox.sql(
      `select column_name, data_type, character_maximum_length, is_nullable from information_schema.columns
       where table_schema = 'ak_sumofus' and table_name = 'core_user' order by ordinal_position`,
    );
    const def = registry.find('core_user')!;
    expect(cols.rows.map((c) => c.column_name)).toEqual(def.columns.map((c) => c.name));
    expect(cols.rows.find((c) => c.column_name === 'email')).toMatchObject({ data_type: 'character varying', character_maximum_length: 765, is_nullable: 'NO' });
  });

  it('readTable reads every table back as schemas/ defines it (dist key, sort key, types, defaults)', async () => {
    const wh = createWarehouse({ warehouse: { target: { kind: 'provisioned', clusterId: 'sandbox-cluster', dbUser: 'awsuser' }, database: 'dev' }, aws: { region: 'us-west-2', endpoint: sb.sandbox.endpoint } }, { env: {} });
    try {
      const all = await readTables(wh, 'ak_sumofus');
      expect([...all.keys()].sort()).toEqual(registry.names());
      for (const t of registry.tables.values()) expect(diffTable(t, all.get(t.name)?.table), t.name).toEqual([]);

      const action = await readTable(wh, 'ak_sumofus', 'core_action');
      const want = registry.find('core_action')!;
      expect(action).toMatchObject({
        schema: 'ak_sumofus',
        name: 'core_action',
        distStyle: 'KEY',
        distKey: want.distKey,
        sortKey: want.sortKey,
      });
      expect(action!.sortKey.style).toBe('INTERLEAVED');
      expect(action!.columns.map((c) => [c.name, c.type, c.notNull])).toEqual(want.columns.map((c) => [c.name, c.type, c.notNull]));
      expect(action!.columns.find((c) => c.name === 'is_forwarded')?.default).toBe('0');
      const user = await readTable(wh, 'ak_sumofus', 'core_user');
      expect(user!.columns.find((c) => c.name === 'middle_name')?.default).toBe("''");
      expect(await readTable(wh, 'ak_sumofus', 'no_such_table')).toBeUndefined();
    } finally {
      wh.close();
    }
  });

  it('a second schema apply changes nothing and says so', async () => {
    const before = await sb.sandbox.sql(`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'ak_sumofus'`);
    const r = await cli(sb.sandbox.endpoint, 'schema', 'apply', '--all');
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => l.endsWith(': exists (no change)'))).toHaveLength(26);
    expect(r.out.some((l) => /created/.test(l))).toBe(false);
    expect(r.out.at(-1)).toBe('nothing to do: all 26 tables exist');
    const after = await sb.sandbox.sql(`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'ak_sumofus'`);
    expect(after.rows).toEqual(before.rows);
  });

  it('schema diff reports no drift for all 26 tables', async () => {
    const r = await cli(sb.sandbox.endpoint, 'schema', 'diff');
    expect(r.err).toEqual([]);
    expect(r.out).toEqual(['no drift: 26 tables match schemas/']);
    expect(r.code).toBe(0);
  });

  it('a column added behind the bot’s back is named by schema diff', async () => {
    // someone runs this in the query editor: a plain Data API call, not the bot
    const { Id } = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'ALTER TABLE ak_sumofus.core_action ADD COLUMN foo varchar(64)' }));
    expect((await waitDone(sb.client, Id!)).Status).toBe('FINISHED');

    const r = await cli(sb.sandbox.endpoint, 'schema', 'diff');
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      'ak_sumofus.core_action.foo: extra column varchar(64) in the warehouse, not in schemas/',
      'drift in 1 of 26 tables (1 difference)',
    ]);
    const one = await cli(sb.sandbox.endpoint, 'schema', 'diff', 'core_user');
    expect(one).toMatchObject({ code: 0, out: ['no drift: 1 table match schemas/'] });
  });

  it('an ALTER DISTKEY behind the bot’s back is named by schema diff', async () => {
    // (Redshift refuses ALTER DISTKEY on an interleaved-sort table such as core_action; core_order's sort key is compound)
    const { Id } = await sb.client.send(new ExecuteStatementCommand({ ...TARGET, Sql: 'ALTER TABLE ak_sumofus.core_order ALTER DISTKEY user_id' }));
    const d = await waitDone(sb.client, Id!);
    expect(d.Error ?? '').toBe('');
    expect(d.Status).toBe('FINISHED');

    const r = await cli(sb.sandbox.endpoint, 'schema', 'diff');
    expect(r.code).toBe(1);
    expect(r.out).toEqual([
      'ak_sumofus.core_action.foo: extra column varchar(64) in the warehouse, not in schemas/',
      'ak_sumofus.core_order: DISTKEY is user_id, schemas/ says id',
      'drift in 2 of 26 tables (2 differences)',
    ]);
    const one = await cli(sb.sandbox.endpoint, 'schema', 'diff', 'core_order', 'ak_sumofus.core_user');
    expect(one).toMatchObject({ code: 1, out: ['ak_sumofus.core_order: DISTKEY is user_id, schemas/ says id', 'drift in 1 of 2 tables (1 difference)'] });
  });

  it('without a warehouse configured, the CLI says which variables to set', async () => {
    const err: string[] = [];
    const code = await runCli(['schema', 'diff'], { out: () => undefined, err: (l) => err.push(l), env: {}, cwd: REPO });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/no Redshift warehouse is configured[\s\S]*REDSHIFT_CLUSTER_ID[\s\S]*REDSHIFT_WORKGROUP[\s\S]*npm run sandbox/);
  });

  it.runIf(backend === 'postgres')('the CLI runs as its own process (npx tsx src/cli.ts schema diff) against the sandbox', async () => {
    const r = await spawnCli(['schema', 'diff'], cliEnv(sb.sandbox.endpoint));
    expect(r.out).toContain('ak_sumofus.core_action.foo: extra column varchar(64) in the warehouse, not in schemas/');
    expect(r.out).toContain('ak_sumofus.core_order: DISTKEY is user_id, schemas/ says id');
    expect(r.code).toBe(1);
  });
});
