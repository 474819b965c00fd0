/**
 * The bot's own adapters against a started sandbox, built exactly as the bot builds them (environment → loadConfig →
 * createWarehouse / createDms / createLogs; loopback endpoint, no credentials) with short retries and polls for tests;
 * and a table of schemas/ created in the sandbox's warehouse with generated rows, for replication loops to adopt.
 *
 *   const aws = sandboxAdapters(sandbox);
 *   dms = aws.dms(); wh = aws.warehouse();
 *   await createSeededTable(sandbox, wh, registry.find('core_action')!, { rows: 25, seed: 5 });
 */
import { loadConfig } from '../../src/config.js';
import { type DmsAdapter, createDms } from '../../src/replication/dms.js';
import { type CloudWatchLogsAdapter, createLogs } from '../../src/replication/logs.js';
import { Prng, tableGenerator } from '../../src/sandbox/apply-loop.js';
import type { Sandbox } from '../../src/sandbox/server.js';
import type { TableDef } from '../../src/schema/model.js';
import { renderCreateTable } from '../../src/schema/render.js';
import { type RedshiftDataWarehouse, createWarehouse } from '../../src/warehouse/redshift-data.js';

const RETRY = { baseMs: 2, maxMs: 20 };

export interface SandboxAdapters {
  env: Record<string, string>;
  config: ReturnType<typeof loadConfig>;
  /** each call builds a new adapter (the caller closes it) */
  dms(): DmsAdapter;
  warehouse(): RedshiftDataWarehouse;
  logs(): CloudWatchLogsAdapter;
}

export function sandboxAdapters(sandbox: Sandbox): SandboxAdapters {
  const env = { AWS_ENDPOINT_URL: sandbox.endpoint, REDSHIFT_CLUSTER_ID: 'sandbox-cluster', REDSHIFT_DB_USER: 'awsuser' };
  const config = loadConfig(env);
  return {
    env,
    config,
    dms: () => createDms(config, { env, retry: RETRY, poll: { initialMs: 20, maxMs: 200 }, settleGraceMs: 400 }),
    warehouse: () => createWarehouse({ warehouse: config.warehouse!, aws: config.aws }, { env, retry: RETRY }),
    logs: () => createLogs(config, { env, retry: RETRY }),
  };
}

/**
 * CREATE TABLE `t` (schemas/ definition, no constraints: the replicated shape) through the warehouse, in its schema
 * (created if missing), and `rows` generated rows with ids 1..rows, created an hour ago.
 */
export async function createSeededTable(sandbox: Sandbox, wh: RedshiftDataWarehouse, t: TableDef, o: { rows: number; seed: number }): Promise<void> {
  await wh.execute(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
  await wh.execute(renderCreateTable(t, { constraints: false }));
  const gen = tableGenerator(t.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })));
  const rng = new Prng(o.seed);
  for (let id = 1; id <= o.rows; id++) {
    const row = gen.insert(id, rng, Date.now() - 3_600_000);
    const cols = Object.keys(row);
    await sandbox.sql(`INSERT INTO ${t.schema}.${t.name} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((c) => row[c]));
  }
}

/** POST /_sandbox/faults with a JSON body (the sandbox's fault knobs). */
export function postFaults(sandbox: Sandbox, body: unknown): Promise<Response> {
  return fetch(`${sandbox.endpoint}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}
