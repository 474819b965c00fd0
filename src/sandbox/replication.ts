/**
 * `sandbox.startReplication(registry, opts)`: a live replicated warehouse in the sandbox.
 *
 * - Seeds one DMS task per `replication.provider: dms` task id in the registry (for ak_sumofus: `flydata-core-usermailing`
 *   on the replication instance `core-usermailing-replication`, logging to `dms-tasks-core-usermailing-replication`),
 *   selecting its tables, in `running` — what the account already has. An existing task of that name is reused.
 * - Starts apply loops (apply-loop.ts): a DmsApplyLoop on each dms table (unless `dms: false`) and a CdcApplyLoop on each
 *   table named in `cdc`, writing through the sandbox's own database sessions. By default a loop first ADOPTS the rows
 *   already in its table (so its updates and deletes touch them and `verify()` compares the whole table).
 * The loops are returned so a test can stop generating, wait until idle and verify that no change was lost.
 */
import type { Registry } from '../schema/registry.js';
import type { TableDef } from '../schema/model.js';
import { parseRedshiftType } from '../schema/types.js';
import { type ApplyLoopOptions, CdcApplyLoop, type ChangeMix, DmsApplyLoop, type SqlClient, tableGenerator } from './apply-loop.js';
import type { DmsSandbox, DmsTaskView } from './dms.js';
import { EmbeddedSourceDb, type SourceDb } from './source-db.js';

export interface LoopSettings {
  /** changes per second (default: ReplicationOptions.rate) */
  rate?: number;
  /** PRNG seed (default: derived from the table name) */
  seed?: number;
  mix?: Partial<ChangeMix>;
  /** ms between ticks (default: ReplicationOptions.tickMs) */
  tickMs?: number;
}

export interface ReplicationOptions {
  /** DmsApplyLoops on the dms tables: true (default) / false, or their settings */
  dms?: boolean | LoopSettings;
  /** CdcApplyLoops: table names ("core_action" in the default schema, or "schema.table"), optionally with settings */
  cdc?: ReadonlyArray<string | ({ table: string } & LoopSettings)>;
  /** default changes per second per loop (default 5) */
  rate?: number;
  /** default ms between ticks (default 50) */
  tickMs?: number;
  /** take the rows already in each table as the source's state (default true) */
  adoptExisting?: boolean;
  /**
   * seed the registry's DMS tasks that do not exist yet, `running` (default true: what an existing account has); false
   * for a brand-new account, where the bot creates the task (`setup`) and a later startReplication attaches to it
   */
  seedTasks?: boolean;
  /** start ticking at once (default true); otherwise call `loop.start()` yourself */
  start?: boolean;
  /** re-read a target's columns at most this often (default 1000 ms) */
  columnRefreshMs?: number;
  /** errors of the loops that are not the table being missing (data errors, connection trouble) */
  onError?: (table: string, err: Error) => void;
  /** where the loops write their changes: a MariaDB source (MariaDbSourceDb) or, by default, one embedded stand-in */
  source?: SourceDb;
  /** the source's binlog retention, ms (default unlimited): see ApplyLoopOptions.binlogRetentionMs */
  binlogRetentionMs?: number;
  /** full loads / reloads copy this many rows per chunk, with this pause between chunks (ApplyLoopOptions; a slow load in tests) */
  loadChunkRows?: number;
  loadChunkDelayMs?: number;
}

export type ApplyLoop = DmsApplyLoop | CdcApplyLoop;

export interface Replication {
  /** the DMS tasks (seeded or found), as the sandbox sees them when replication started */
  tasks: DmsTaskView[];
  /** the source database every loop writes to (the one passed in, or the embedded stand-in) */
  source: SourceDb;
  /** `schema.table` → its loop */
  dmsLoops: Map<string, DmsApplyLoop>;
  cdcLoops: Map<string, CdcApplyLoop>;
  /** the loop of a table ("core_action" or "schema.table") */
  loop(table: string): ApplyLoop | undefined;
  loops(): ApplyLoop[];
  /** stop every loop (waits for the tick in flight; DMS loops detach from their task) */
  stop(): Promise<void>;
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

function resolve(registry: Registry, name: string): TableDef {
  const t = registry.find(name);
  if (t === undefined) throw new Error(`startReplication: no table "${name}" in ${registry.dir}`);
  return t;
}

function keyOf(t: TableDef): string {
  const pk = t.primaryKey;
  const col = pk?.length === 1 ? t.columns.find((c) => c.name === pk[0]) : undefined;
  const p = col !== undefined ? parseRedshiftType(col.type) : undefined;
  if (col === undefined || p === undefined || !p.ok || !['smallint', 'integer', 'bigint'].includes(p.type.kind))
    throw new Error(`startReplication: ${t.schema}.${t.name} needs a single integer primary key column for an apply loop (found ${pk ? pk.join(', ') : 'none'})`);
  return col.name;
}

async function tableExists(db: SqlClient, schema: string, table: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, table]);
  return r.rows.length > 0;
}

async function maxKey(db: SqlClient, t: TableDef, key: string): Promise<number> {
  const r = await db.query(`SELECT max(${quote(key)})::text AS m FROM ${quote(t.schema)}.${quote(t.name)}`);
  const m = r.rows[0]?.m;
  return m === null || m === undefined ? 0 : Number(m);
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export async function startReplication(ctx: { dms: DmsSandbox; db: SqlClient }, registry: Registry, opts: ReplicationOptions = {}): Promise<Replication> {
  const rate = opts.rate ?? 5;
  const tickMs = opts.tickMs ?? 50;
  const adopt = opts.adoptExisting ?? true;
  const dmsLoops = new Map<string, DmsApplyLoop>();
  const cdcLoops = new Map<string, CdcApplyLoop>();
  const tasks: DmsTaskView[] = [];

  // one task per task id, selecting its tables
  const byTask = new Map<string, TableDef[]>();
  for (const t of registry.tables.values()) {
    if (t.replication.provider !== 'dms') continue;
    const list = byTask.get(t.replication.taskId) ?? [];
    list.push(t);
    byTask.set(t.replication.taskId, list);
  }
  for (const [taskId, tables] of opts.seedTasks === false ? [] : byTask) {
    const first = tables[0]!;
    const rep = first.replication.provider === 'dms' ? first.replication : undefined;
    let view: DmsTaskView;
    try {
      view = ctx.dms.getTask(taskId);
    } catch {
      view = ctx.dms.seedTask({
        identifier: taskId,
        status: 'running',
        ...(rep?.replicationInstance !== undefined ? { replicationInstance: rep.replicationInstance } : {}),
        ...(rep?.logGroup !== undefined ? { logGroup: rep.logGroup } : {}),
        tables: tables.map((t) => ({ schema: t.schema, table: t.name })),
      });
    }
    tasks.push(view);
  }

  const source = opts.source ?? new EmbeddedSourceDb();
  const common = (t: TableDef, s: LoopSettings): ApplyLoopOptions => ({
    db: ctx.db,
    source,
    ...(opts.binlogRetentionMs !== undefined ? { binlogRetentionMs: opts.binlogRetentionMs } : {}),
    ...(opts.loadChunkRows !== undefined ? { loadChunkRows: opts.loadChunkRows } : {}),
    ...(opts.loadChunkDelayMs !== undefined ? { loadChunkDelayMs: opts.loadChunkDelayMs } : {}),
    schema: t.schema,
    table: t.name,
    keyColumn: keyOf(t),
    generator: tableGenerator(
      t.columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notNull })),
      keyOf(t),
    ),
    seed: s.seed ?? seedOf(`${t.schema}.${t.name}`),
    rate: s.rate ?? rate,
    tickMs: s.tickMs ?? tickMs,
    ...(s.mix !== undefined ? { mix: s.mix } : {}),
    ...(opts.columnRefreshMs !== undefined ? { columnRefreshMs: opts.columnRefreshMs } : {}),
    ...(opts.onError !== undefined ? { onError: (err: Error) => opts.onError?.(`${t.schema}.${t.name}`, err) } : {}),
  });

  const prepare = async (loop: ApplyLoop, t: TableDef): Promise<void> => {
    if (!(await tableExists(ctx.db, t.schema, t.name))) return; // the loop starts anyway: the table being missing is a state it handles
    if (adopt) await loop.adoptExisting();
  };

  const created: ApplyLoop[] = [];
  try {
    if (opts.dms !== false) {
      const s: LoopSettings = typeof opts.dms === 'object' ? opts.dms : {};
      for (const [taskId, tables] of byTask) {
        for (const t of tables) {
          const o = common(t, s);
          const exists = await tableExists(ctx.db, t.schema, t.name);
          if (!adopt && exists) o.firstKey = (await maxKey(ctx.db, t, o.keyColumn ?? 'id')) + 1;
          const loop = new DmsApplyLoop({ ...o, dms: ctx.dms, task: taskId });
          created.push(loop);
          await prepare(loop, t);
          dmsLoops.set(`${t.schema}.${t.name}`, loop);
        }
      }
    }
    for (const entry of opts.cdc ?? []) {
      const spec = typeof entry === 'string' ? { table: entry } : entry;
      const t = resolve(registry, spec.table);
      if (t.replication.provider !== 'cdc') throw new Error(`startReplication: ${t.schema}.${t.name} is replicated by ${t.replication.provider}, not cdc`);
      const k = `${t.schema}.${t.name}`;
      if (cdcLoops.has(k)) throw new Error(`startReplication: ${k} is listed twice in cdc`);
      const o = common(t, spec);
      if (!adopt && (await tableExists(ctx.db, t.schema, t.name))) o.firstKey = (await maxKey(ctx.db, t, o.keyColumn ?? 'id')) + 1;
      const loop = new CdcApplyLoop(o);
      created.push(loop);
      await prepare(loop, t);
      cdcLoops.set(k, loop);
    }
  } catch (e) {
    await Promise.allSettled(created.map((l) => l.stop()));
    throw e;
  }

  if (opts.start ?? true) for (const l of created) l.start();

  let stopped: Promise<void> | undefined;
  return {
    tasks,
    source,
    dmsLoops,
    cdcLoops,
    loop(table) {
      const t = registry.find(table);
      const k = t !== undefined ? `${t.schema}.${t.name}` : table;
      return dmsLoops.get(k) ?? cdcLoops.get(k);
    },
    loops() {
      return [...dmsLoops.values(), ...cdcLoops.values()];
    },
    stop() {
      stopped ??= Promise.allSettled(created.map((l) => l.stop())).then(() => undefined);
      return stopped;
    },
  };
}
