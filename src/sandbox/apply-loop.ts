/**
 * Replication apply loops: the sandbox's stand-ins for AWS DMS and for the buffered CDC service (FlyData), writing into
 * the target tables through a direct database connection.
 *
 * Both loops model the SOURCE as a change log: every tick they generate changes (insert / update / delete, seeded PRNG)
 * into that log — continuously, whatever the target is doing — and write them to the source DATABASE (`SourceDb`,
 * source-db.ts: MariaDB, or the embedded stand-in by default), the source of truth a full load / reload copies in key
 * order and `verify()` compares with. The log is the binlog stand-in: the apply side reads only changes the source has
 * committed (`flushed`), and with a binlog retention (`binlogRetentionMs`) a change not read in time is purged — DMS then
 * fails with FATAL_ERROR on every resume and CDC marks the table broken, until a reload. The apply side walks the log
 * in order:
 *  - `DmsApplyLoop` applies while its DMS task is running (or still stopping). While the task is stopped nothing is
 *    applied; the changes stay pending (DMS re-reads the binlog on resume-processing) and are applied in order after the
 *    resume. When the target table is MISSING it writes `[TARGET_APPLY    ]E:  … Table 'schema'.'table' does not exist`
 *    lines to the task's CloudWatch stream and the change is lost, as in the real service: with TableErrorPolicy
 *    SUSPEND_TABLE (the default) the table goes to `Table error` and every later change is lost too until the table is
 *    reloaded (ReloadTables / reload-target, which copies the source state); with STOP_TASK the task fails and the change
 *    stays pending for the next resume.
 *  - `CdcApplyLoop` applies whenever the table name exists and BUFFERS while it is missing, applying the buffer in order
 *    when the name reappears.
 * Every change's fate is recorded (pending / applied at t / failed with the reason), so a test proves that no change was
 * lost by comparing the whole target table with the source state (`verify()`: every row, counted, not sampled).
 *
 * The target's shape may change while a loop runs (a modify adds, drops or renames columns): writes name only the
 * columns the target table has NOW (re-read every `columnRefreshMs`, and at once when a write fails with "column … does
 * not exist"); a column the generator does not write takes its default; a renamed column is followed with
 * `mapColumn(old, new)` — called before the rename, it writes the old name until the target has the new one (the
 * mapping follows the rename whenever the table takes it: in place, or at a swap). Every insert and update sets
 * `updated_at` when the target has that column (the generator's clock value, or the loop's clock when the generator
 * does not write it): the live-copy delta finds changed rows by it.
 */
import { type DmsSandbox, type DmsTableBinding, dmsLogLine } from './dms.js';
import { qualified, quoteIdent } from '../schema/identifiers.js';
import { formatRedshiftType, parseRedshiftType } from '../schema/types.js';
import { EmbeddedSourceDb, type SourceDb, type SourceRow, type SourceTable, type SourceValue } from './source-db.js';

/** The one thing the loops need from the database layer (a pg Pool / Client or a PGlite instance fits). */
export interface SqlClient {
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export type { SourceRow, SourceValue } from './source-db.js';
/** A key's state in the source: its current row, or 'deleted'. */
export type ExpectedRow = SourceRow | 'deleted';
export type ChangeKind = 'insert' | 'update' | 'delete';

export interface ChangeRecord {
  seq: number;
  kind: ChangeKind;
  key: number;
  /** the row after the change (insert / update) */
  row?: SourceRow;
  generatedAt: number;
  fate: 'pending' | 'applied' | 'failed';
  /** when it was applied or failed */
  at?: number;
  /** 1, 2, 3… in the order changes reached the target (applied or failed): proves in-order application */
  order?: number;
  /** applied by the change itself, or covered by a (re)load that copied the source state */
  via?: 'apply' | 'load';
  error?: string;
}

export interface ApplyLoopStats {
  generated: number;
  byKind: Record<ChangeKind, number>;
  applied: number;
  appliedByLoad: number;
  failed: number;
  pending: number;
  /** rows the source holds now */
  liveRows: number;
  seeded: number;
  loads: number;
  /** largest number of pending changes seen (the CDC buffer's high-water mark) */
  maxPending: number;
  /** ms since epoch the target table was first seen missing in the current episode (CDC), if it is missing now */
  missingSince?: number;
  missingEpisodes: number;
  lastAppliedAt?: number;
  lastError?: string;
  /** changes lost because the binlog no longer held them when the replicator came to read them (retention knob) */
  lostToRetention: number;
  /** changes applied a second time by the replayDuplicates knob */
  replayed: number;
  /** why the table is not replicated now, until a reload (binlog position lost) */
  broken?: string;
  /** which source the loop writes: 'embedded' stand-in or 'mariadb' */
  source: 'embedded' | 'mariadb';
}

// ───────────────────────────── PRNG ─────────────────────────────

/** mulberry32: small, fast, deterministic for a given seed. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Prng.pick: empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  word(maxLen: number): string {
    const len = Math.max(1, Math.min(maxLen, this.int(3, 12)));
    let s = '';
    for (let i = 0; i < len; i++) s += 'abcdefghijklmnopqrstuvwxyz'[this.int(0, 25)];
    return s;
  }
}

// ───────────────────────────── row generators ─────────────────────────────

export interface RowGenerator {
  /** the columns the loop writes (the key column included) */
  readonly columns: readonly string[];
  /** their Redshift types, when known (a MariaDB source creates its table from them; a CDC reload creates the target) */
  readonly types?: Readonly<Record<string, string>>;
  /** a new source row with this key */
  insert(key: number, rng: Prng, now: number): SourceRow;
  /** the row after an update of `prev` (the key must not change) */
  update(prev: SourceRow, rng: Prng, now: number): SourceRow;
}

export interface GeneratorColumn {
  name: string;
  /** a Redshift type, any accepted spelling (`datetime`, `varchar(max)`, `numeric(10,2)`…) */
  type: string;
  notNull?: boolean;
}

/** UTC `YYYY-MM-DD HH:MM:SS`: the text form PostgreSQL prints for a timestamp, so verify() can compare as text. */
export function sqlTimestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

type ValueFn = (rng: Prng, now: number) => SourceValue;

function valueFn(col: GeneratorColumn): ValueFn | undefined {
  const p = parseRedshiftType(col.type);
  if (!p.ok) throw new Error(`row generator: column ${col.name}: ${p.error}`);
  const t = p.type;
  switch (t.kind) {
    case 'smallint':
      return (r) => r.int(0, 9);
    case 'integer':
      return (r) => r.int(1, 1_000_000);
    case 'bigint':
      return (r) => r.int(1, 1_000_000_000_000);
    case 'numeric': {
      const intDigits = Math.min(t.precision - t.scale, 6);
      return (r) => {
        const whole = intDigits <= 0 ? 0 : r.int(0, 10 ** intDigits - 1);
        if (t.scale === 0) return String(whole);
        const frac = r.int(0, 10 ** Math.min(t.scale, 6) - 1);
        return `${whole}.${String(frac).padStart(Math.min(t.scale, 6), '0').padEnd(t.scale, '0')}`;
      };
    }
    case 'real':
    case 'double precision':
      return (r) => r.int(0, 4000) / 4;
    case 'boolean':
      return (r) => r.next() < 0.5;
    case 'char':
      return (r) => r.word(Math.min(t.length, 8));
    case 'varchar':
      // at most a third of the byte length: the value fits the MySQL source's varchar(n/3 characters) too
      return (r) => r.word(Math.min(Math.max(1, Math.floor(t.length / 3)), 24));
    case 'date':
      return (_r, now) => sqlTimestamp(now).slice(0, 10);
    case 'timestamp':
      return (_r, now) => sqlTimestamp(now);
    default:
      return undefined;
  }
}

/**
 * A generator for a table's columns (e.g. a TableDef's `columns`). Values are written in the text form PostgreSQL prints
 * them in, so the target can be compared with the source as text. `created_at` / `updated_at` get the loop's clock;
 * an update changes one or two other columns and sets `updated_at`. Types with no generator (time, super, geometry…) are
 * written as NULL when nullable and refused otherwise.
 */
export function tableGenerator(columns: readonly GeneratorColumn[], keyColumn = 'id'): RowGenerator {
  if (!columns.some((c) => c.name === keyColumn)) throw new Error(`row generator: key column "${keyColumn}" is not one of the columns`);
  const fns = new Map<string, ValueFn | undefined>();
  for (const c of columns) {
    const f = valueFn(c);
    if (f === undefined && c.notNull && c.name !== keyColumn)
      throw new Error(`row generator: cannot generate values of type ${c.type} for NOT NULL column ${c.name}; pass a custom RowGenerator`);
    fns.set(c.name, f);
  }
  const value = (c: GeneratorColumn, rng: Prng, now: number): SourceValue => {
    const f = fns.get(c.name);
    if (f === undefined) return null;
    if (!c.notNull && rng.next() < 0.15) return null;
    return f(rng, now);
  };
  const mutable = columns.filter((c) => c.name !== keyColumn && c.name !== 'created_at' && c.name !== 'updated_at' && fns.get(c.name) !== undefined);
  const hasUpdatedAt = columns.some((c) => c.name === 'updated_at');
  const types: Record<string, string> = {};
  for (const c of columns) {
    const p = parseRedshiftType(c.type);
    if (p.ok) types[c.name] = formatRedshiftType(p.type);
  }
  return {
    columns: columns.map((c) => c.name),
    types,
    insert(key, rng, now) {
      const row: SourceRow = {};
      for (const c of columns) {
        if (c.name === keyColumn) row[c.name] = key;
        else if ((c.name === 'created_at' || c.name === 'updated_at') && fns.get(c.name) !== undefined) row[c.name] = sqlTimestamp(now);
        else row[c.name] = value(c, rng, now);
      }
      return row;
    },
    update(prev, rng, now) {
      const row: SourceRow = { ...prev };
      const n = Math.min(mutable.length, rng.int(1, 2));
      for (let i = 0; i < n; i++) {
        const c = rng.pick(mutable);
        row[c.name] = value(c, rng, now);
      }
      if (hasUpdatedAt) row.updated_at = sqlTimestamp(now);
      return row;
    },
  };
}

// ───────────────────────────── options ─────────────────────────────

export interface ChangeMix {
  insert: number;
  update: number;
  delete: number;
}

export interface ApplyLoopOptions {
  db: SqlClient;
  schema: string;
  table: string;
  /** the column that identifies a row (integer); default `id` */
  keyColumn?: string;
  generator: RowGenerator;
  /** PRNG seed: the same seed gives the same rows (default 1) */
  seed?: number;
  /** source changes per second (default 20) */
  rate?: number;
  /** relative weights of inserts / updates / deletes (default 6 / 3 / 1) */
  mix?: Partial<ChangeMix>;
  /** ms between ticks (default 50) */
  tickMs?: number;
  /** most changes applied per tick (default 500) */
  batchSize?: number;
  /** first generated key (default 1) */
  firstKey?: number;
  now?: () => number;
  /** called with errors that are not the table being missing (connection trouble, data errors) */
  onError?: (err: Error) => void;
  /** re-read the target's columns at most this often, ms (default 1000; also at once after an undefined-column error) */
  columnRefreshMs?: number;
  /** the source database the changes are written to (default: a new embedded stand-in) */
  source?: SourceDb;
  /**
   * the source's binlog retention, ms (default: unlimited): a change the replicator has not read within this time is
   * purged from the binlog — the replicator cannot continue from its position until the table is reloaded
   */
  binlogRetentionMs?: number;
  /** rows per chunk of a full load / reload (default 5000); FullLoadRows moves after each chunk */
  loadChunkRows?: number;
  /** pause between full-load chunks, ms (default 0): lets a test watch TableState `Full load` and FullLoadRows move */
  loadChunkDelayMs?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** rows the source holds */
  expectedRows: number;
  /** rows the target table holds */
  targetRows: number;
  missingCount: number;
  extraCount: number;
  mismatchedCount: number;
  duplicateCount: number;
  /** up to 20 keys of each kind, for the message */
  missing: number[];
  extra: number[];
  mismatched: number[];
  duplicates: number[];
  summary: string;
  /** the generator columns compared (those the compared table has) */
  columns?: string[];
  /** generator columns the compared table does not have (dropped by a modify): not compared */
  skippedColumns?: string[];
}

type ErrorClass = 'missing' | 'data' | 'transient';

/** The columns a write names and how each is called in the target now. */
interface WritePlan {
  cols: string[];
  stamp: string | undefined;
  name: (col: string) => string;
}

function classify(err: unknown): ErrorClass {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  const msg = err instanceof Error ? err.message : String(err);
  // `column "x" of relation "t" does not exist` is about a column, not the table
  if (code === '42703' || /^column .* does not exist/i.test(msg)) return 'data';
  if (code === '42P01' || code === '3F000' || /relation .* does not exist|schema .* does not exist/i.test(msg)) return 'missing';
  if (/^(08|57|53|55)/.test(code) || code === '' || /^E[A-Z]+$/.test(code)) return 'transient';
  return 'data';
}

/** PostgreSQL 42703 undefined_column: the target lost (or renamed) a column the write names. */
function isUndefinedColumn(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : '';
  return code === '42703' || (code === '' && /^column .* does not exist/i.test(err instanceof Error ? err.message : String(err)));
}

/** Source value vs target text: equal as text, or as numbers when both are plain decimals (numeric(10,2) → numeric(12,4)). */
function sameValue(got: unknown, exp: SourceValue | undefined): boolean {
  if (exp === null || exp === undefined) return got === null || got === undefined;
  if (got === null || got === undefined) return false;
  const a = String(got);
  const b = String(exp);
  if (a === b) return true;
  const num = /^-?\d+(?:\.\d+)?$/;
  return num.test(a) && num.test(b) && Number(a) === Number(b);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

// ───────────────────────────── the common loop ─────────────────────────────

abstract class ApplyLoopBase {
  protected readonly db: SqlClient;
  readonly schema: string;
  readonly table: string;
  readonly keyColumn: string;
  protected readonly generator: RowGenerator;
  protected readonly rng: Prng;
  protected readonly now: () => number;
  protected readonly tickMs: number;
  protected readonly batchSize: number;
  protected readonly onError: ((err: Error) => void) | undefined;
  protected rate: number;
  protected mix: ChangeMix;

  /** the source change log, in generation order */
  protected readonly log: ChangeRecord[] = [];
  /** index of the first change not yet processed by the apply side */
  protected cursor = 0;
  private readonly source = new Map<number, SourceRow>();
  private readonly deleted = new Set<number>();
  private readonly liveKeys: number[] = [];
  private readonly liveIndex = new Map<number, number>();
  private nextKey: number;
  private carry = 0;
  private lastGenAt = 0;
  private generating = true;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  protected counters = { applied: 0, appliedByLoad: 0, failed: 0, seeded: 0, loads: 0, maxPending: 0, missingEpisodes: 0, lostToRetention: 0, replayed: 0 };
  /** the source table the changes are written to (the source of truth a load copies and verify() compares with) */
  protected readonly sourceDb: SourceDb;
  protected readonly sourceTable: SourceTable;
  /** log entries written to the source so far: the binlog's end position (only these can be read by a replicator) */
  protected flushed = 0;
  private flushing: Promise<void> | undefined;
  protected retentionMs: number;
  protected loadChunkRows: number;
  protected loadChunkDelayMs: number;
  /** why replication of this table cannot continue until a reload (binlog position purged) */
  protected broken: string | undefined;
  protected missingSince: number | undefined;
  protected lastAppliedAt: number | undefined;
  protected lastError: string | undefined;
  /** generator column → the target's name for it (renames) */
  private readonly columnMap = new Map<string, string>();
  private targetCols: Set<string> | undefined;
  private targetColsAt = Number.NEGATIVE_INFINITY;
  private readonly columnRefreshMs: number;
  /** how many times the target's columns were re-read because a write named a column it no longer has */
  columnRereads = 0;

  constructor(opts: ApplyLoopOptions) {
    this.db = opts.db;
    this.schema = opts.schema;
    this.table = opts.table;
    this.keyColumn = opts.keyColumn ?? 'id';
    this.generator = opts.generator;
    if (!this.generator.columns.includes(this.keyColumn)) throw new Error(`apply loop ${this.qualifiedName}: the generator does not write the key column ${this.keyColumn}`);
    this.rng = new Prng(opts.seed ?? 1);
    this.now = opts.now ?? Date.now;
    this.tickMs = Math.max(1, opts.tickMs ?? 50);
    this.batchSize = Math.max(1, opts.batchSize ?? 500);
    this.onError = opts.onError;
    this.rate = Math.max(0, opts.rate ?? 20);
    this.mix = { insert: 6, update: 3, delete: 1, ...(opts.mix ?? {}) };
    this.nextKey = opts.firstKey ?? 1;
    this.columnRefreshMs = Math.max(0, opts.columnRefreshMs ?? 1000);
    this.sourceDb = opts.source ?? new EmbeddedSourceDb();
    this.sourceTable = this.sourceDb.table({
      schema: this.schema,
      table: this.table,
      keyColumn: this.keyColumn,
      columns: this.generator.columns.map((name) => ({ name, ...(this.generator.types?.[name] !== undefined ? { type: this.generator.types[name] } : {}), notNull: name === this.keyColumn })),
    });
    this.retentionMs = opts.binlogRetentionMs ?? Number.POSITIVE_INFINITY;
    this.loadChunkRows = Math.max(1, opts.loadChunkRows ?? 5000);
    this.loadChunkDelayMs = Math.max(0, opts.loadChunkDelayMs ?? 0);
  }

  /** The pace of the next full loads / reloads: rows per chunk and the pause after each chunk (FullLoadRows moves per chunk). */
  setLoadPace(chunkRows: number, chunkDelayMs: number): void {
    this.loadChunkRows = Math.max(1, Math.floor(chunkRows));
    this.loadChunkDelayMs = Math.max(0, chunkDelayMs);
  }

  /**
   * Fault knob: the source's binlog retention, ms (undefined = unlimited). A change not read by the replicator within
   * it is gone: DMS fails the task (FATAL_ERROR) on every resume until a reload-target; CDC marks the table broken until
   * `reload()`. Either way the changes in the gap are lost (their fate says so) until the reload copies the source.
   */
  setBinlogRetention(ms: number | undefined): void {
    this.retentionMs = ms === undefined ? Number.POSITIVE_INFINITY : Math.max(0, ms);
  }

  protected retentionText(): string {
    return this.retentionMs < 10_000 ? `${Math.round(this.retentionMs)} ms` : `${Math.round(this.retentionMs / 1000)} s`;
  }

  /** Is log entry `i` purged from the binlog (older than the retention)? */
  protected isPurged(i: number): boolean {
    const c = this.log[i];
    return c !== undefined && this.now() - c.generatedAt > this.retentionMs;
  }

  /** The binlog-purged entries from the cursor on: marks them failed, counts them; returns how many. */
  protected losePurged(reason: string): number {
    let end = this.cursor;
    while (end < this.flushed && this.isPurged(end)) end++;
    const n = end - this.cursor;
    if (n > 0) {
      this.settleUpTo(end, { failed: reason });
      this.counters.lostToRetention += n;
    }
    return n;
  }

  /** Write the generated changes the source does not hold yet, in order (one transaction per batch). */
  async flushSource(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.sourceFrozen) return;
    if (this.flushed >= this.log.length) return;
    this.flushing = (async () => {
      try {
        while (this.flushed < this.log.length) {
          const end = Math.min(this.log.length, this.flushed + 500);
          const batch = this.log.slice(this.flushed, end).map((c) => ({ kind: c.kind, key: c.key, ...(c.row !== undefined ? { row: c.row } : {}) }));
          await this.sourceTable.apply(batch);
          this.flushed = end;
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  get qualifiedName(): string {
    return `${this.schema}.${this.table}`;
  }

  /** Start ticking: generate changes at `rate` and apply them. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastGenAt = this.now();
    this.schedule();
  }

  /** Stop ticking (waits for the tick in flight). The record and source state stay readable. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  /** Stop / restart generating source changes (applying goes on): lets a test drain the pending changes. */
  stopGenerating(): void {
    this.generating = false;
  }
  resumeGenerating(): void {
    this.generating = true;
    this.lastGenAt = this.now();
    this.carry = 0;
  }
  setRate(changesPerSecond: number): void {
    this.rate = Math.max(0, changesPerSecond);
  }
  setMix(mix: Partial<ChangeMix>): void {
    this.mix = { ...this.mix, ...mix };
  }

  /** `n` new rows under fresh keys, stamped now and recorded as live (what seed and seedSource put in place). */
  private newRows(n: number): SourceRow[] {
    const rows: SourceRow[] = [];
    const now = this.now();
    for (let i = 0; i < n; i++) {
      const key = this.nextKey++;
      const row = this.generator.insert(key, this.rng, now);
      this.setLive(key, row);
      rows.push(row);
    }
    return rows;
  }

  /** Put `n` rows in the source AND the target (the table's content before replication starts); not change-logged. */
  async seed(n: number): Promise<void> {
    const rows = this.newRows(n);
    await this.sourceTable.upsert(rows);
    await this.insertRows(rows);
    this.counters.seeded += n;
    this.afterSeed(n);
  }

  /**
   * Put `n` rows in the SOURCE only (what the source held before the task was created): the target gets them from a
   * full load (DMS start-replication / reload-target, ReloadTables) or a CDC `reload()`. Not change-logged.
   */
  async seedSource(n: number): Promise<void> {
    await this.flushSource();
    const rows = this.newRows(n);
    await this.sourceTable.upsert(rows);
    this.counters.seeded += n;
  }

  /**
   * Take the rows already in the target as the source's state (the table's content before replication starts), so
   * updates and deletes touch them and verify() compares them. Reads every row (as text). Returns the count.
   */
  async adoptExisting(): Promise<number> {
    const cols = await this.readColumns();
    if (cols === undefined) throw new Error(`apply loop ${this.qualifiedName}: cannot adopt the rows of a table that does not exist`);
    const keyName = this.targetName(this.keyColumn);
    if (!cols.has(keyName)) throw new Error(`apply loop ${this.qualifiedName}: the table has no column ${keyName} (the key)`);
    const present = this.generator.columns.filter((c) => cols.has(this.targetName(c)));
    const select = present.map((c, i) => `${quoteIdent(this.targetName(c))}::text AS c${i}`).join(', ');
    const res = await this.db.query(`SELECT ${select} FROM ${this.target}`);
    let maxKey = this.nextKey - 1;
    let n = 0;
    const adopted: SourceRow[] = [];
    for (const r of res.rows) {
      const row: SourceRow = {};
      for (const c of this.generator.columns) row[c] = null;
      present.forEach((c, i) => {
        const v = r[`c${i}`];
        row[c] = v === null || v === undefined ? null : String(v);
      });
      const key = Number(row[this.keyColumn]);
      if (!Number.isSafeInteger(key)) continue;
      row[this.keyColumn] = key;
      if (!this.source.has(key)) n++;
      this.setLive(key, row);
      adopted.push(row);
      maxKey = Math.max(maxKey, key);
    }
    // the source holds what the target holds when replication starts
    await this.sourceTable.upsert(adopted);
    this.nextKey = maxKey + 1;
    this.counters.seeded += n;
    this.afterSeed(n);
    return n;
  }

  /**
   * A renamed column: the generator's `sourceColumn` is called `targetColumn` in the target — written under that name
   * once the target has it, under `sourceColumn` while the target still has only that (so it can be called before the
   * rename happens, and the switch is exact whenever the rename lands).
   */
  mapColumn(sourceColumn: string, targetColumn: string): void {
    if (!this.generator.columns.includes(sourceColumn)) throw new Error(`apply loop ${this.qualifiedName}: ${sourceColumn} is not a column the loop writes`);
    if (sourceColumn === targetColumn) this.columnMap.delete(sourceColumn);
    else this.columnMap.set(sourceColumn, targetColumn);
    this.forgetColumns();
  }

  /** Generate `n` source changes now (besides the ones the ticks generate). */
  generate(n: number): ChangeRecord[] {
    const out: ChangeRecord[] = [];
    const now = this.now();
    const total = this.mix.insert + this.mix.update + this.mix.delete;
    for (let i = 0; i < n; i++) {
      let kind: ChangeKind = 'insert';
      const x = this.rng.next() * (total > 0 ? total : 1);
      if (total > 0 && this.liveKeys.length > 0) kind = x < this.mix.insert ? 'insert' : x < this.mix.insert + this.mix.update ? 'update' : 'delete';
      let c: ChangeRecord;
      if (kind === 'insert') {
        const key = this.nextKey++;
        const row = this.generator.insert(key, this.rng, now);
        this.setLive(key, row);
        c = { seq: this.log.length + 1, kind, key, row, generatedAt: now, fate: 'pending' };
      } else {
        const key = this.rng.pick(this.liveKeys);
        if (kind === 'update') {
          const row = this.generator.update(this.source.get(key)!, this.rng, now);
          row[this.keyColumn] = key;
          this.setLive(key, row);
          c = { seq: this.log.length + 1, kind, key, row, generatedAt: now, fate: 'pending' };
        } else {
          this.setDeleted(key);
          c = { seq: this.log.length + 1, kind, key, generatedAt: now, fate: 'pending' };
        }
      }
      this.log.push(c);
      out.push(c);
    }
    this.notePending();
    return out;
  }

  /** The source's state: every key ever generated → its current row, or 'deleted'. */
  expectedRows(): Map<number, ExpectedRow> {
    const m = new Map<number, ExpectedRow>();
    for (const [k, r] of this.source) m.set(k, { ...r });
    for (const k of this.deleted) m.set(k, 'deleted');
    return m;
  }

  /** Every change generated so far and its fate (oldest first). */
  history(): readonly Readonly<ChangeRecord>[] {
    return this.log;
  }

  pendingCount(): number {
    return this.log.length - this.cursor;
  }

  stats(): ApplyLoopStats {
    const byKind: Record<ChangeKind, number> = { insert: 0, update: 0, delete: 0 };
    for (const c of this.log) byKind[c.kind]++;
    return {
      generated: this.log.length,
      byKind,
      applied: this.counters.applied,
      appliedByLoad: this.counters.appliedByLoad,
      failed: this.counters.failed,
      pending: this.pendingCount(),
      liveRows: this.source.size,
      seeded: this.counters.seeded,
      loads: this.counters.loads,
      maxPending: this.counters.maxPending,
      ...(this.missingSince !== undefined ? { missingSince: this.missingSince } : {}),
      missingEpisodes: this.counters.missingEpisodes,
      ...(this.lastAppliedAt !== undefined ? { lastAppliedAt: this.lastAppliedAt } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      lostToRetention: this.counters.lostToRetention,
      replayed: this.counters.replayed,
      ...(this.broken !== undefined ? { broken: this.broken } : {}),
      source: this.sourceDb.kind,
    };
  }

  /** Every row the source database holds now, by key (after writing what is not written yet). */
  async sourceRows(): Promise<Map<number, SourceRow>> {
    await this.flushSource();
    const out = new Map<number, SourceRow>();
    let after: number | undefined;
    for (;;) {
      const chunk = await this.sourceTable.readChunk(after, 10_000);
      for (const r of chunk) out.set(Number(r[this.keyColumn]), r);
      if (chunk.length < 10_000) break;
      after = Number(chunk[chunk.length - 1]![this.keyColumn]);
    }
    return out;
  }

  /**
   * Fault knob: apply the last `n` applied inserts a second time (a replay from an earlier checkpoint). Redshift does
   * not enforce primary keys, so each replayed insert is a duplicate row in the target. Returns the keys replayed.
   */
  async replayDuplicates(n: number): Promise<number[]> {
    const picks: ChangeRecord[] = [];
    for (let i = this.cursor - 1; i >= 0 && picks.length < n; i--) {
      const c = this.log[i]!;
      if (c.kind === 'insert' && c.fate === 'applied' && c.via === 'apply' && this.source.has(c.key)) picks.push(c);
    }
    picks.reverse();
    for (const c of picks) {
      await this.exec({ ...c, row: { ...this.source.get(c.key)! } });
      this.counters.replayed++;
    }
    return picks.map((c) => c.key);
  }

  /** Run one tick by hand (generation by elapsed time, then apply). Ticks never overlap. */
  async tick(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.inFlight = (async () => {
      try {
        if (this.generating && this.rate > 0) {
          const now = this.now();
          const due = (this.rate * Math.max(0, now - this.lastGenAt)) / 1000 + this.carry;
          this.lastGenAt = now;
          const n = Math.floor(due);
          this.carry = due - n;
          if (n > 0) this.generate(n);
        }
        await this.flushSource();
        await this.applyStep();
      } catch (err) {
        this.lastError = errText(err);
        this.onError?.(toError(err));
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }

  /**
   * While a CDC reload copies the source, generated changes wait in the log instead of reaching the source: the copy is
   * then exactly the source at the reload's position, and the changes after it are applied once, not copied AND applied.
   */
  protected sourceFrozen = false;

  /** Resolve when the tick in flight (if any) has finished; its errors are the tick's own (onError). */
  protected async settleTick(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => undefined);
  }

  /** Resolve when `pred()` holds (checked every tick); reject with the loop's stats after `timeoutMs`. */
  async until(pred: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`apply loop ${this.qualifiedName}: ${what} not reached within ${timeoutMs} ms; stats ${JSON.stringify(this.stats())}`);
      await new Promise((r) => setTimeout(r, this.tickMs));
    }
  }

  /**
   * Resolve when no change is pending (stop generating first, or it may never happen). `stallMs` bounds the time with NO
   * progress, not the whole drain: a backlog built up while a task was stopped drains at the machine's speed, which a
   * loaded CI machine makes slow but not stuck; a loop that stops applying still fails after `stallMs`.
   */
  async idle(stallMs = 15_000): Promise<void> {
    let best = this.pendingCount();
    let lastProgress = Date.now();
    while (this.pendingCount() > 0 || this.inFlight !== undefined) {
      const pending = this.pendingCount();
      if (pending < best) {
        best = pending;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > stallMs) {
        throw new Error(`apply loop ${this.qualifiedName}: no pending change applied for ${stallMs} ms (${pending} still pending); stats ${JSON.stringify(this.stats())}`);
      }
      await new Promise((r) => setTimeout(r, this.tickMs));
    }
  }

  /**
   * Compare the whole target table (or `table`, e.g. `old_<t>`) with the source state: every row, as text.
   * ok = same keys, no duplicates, same values in every generated column.
   */
  async verify(table = this.table): Promise<VerifyResult> {
    // the source of truth is the source DATABASE (MariaDB or the stand-in), read after every generated change is in it
    const source = await this.sourceRows();
    const have = await this.readColumns(table);
    if (have === undefined) throw new Error(`verify: table ${this.schema}.${table} does not exist`);
    // a column's name in the compared table: the renamed one when it has it (the new table), else the original (old_<t>)
    const nameIn = (c: string): string | undefined => (have.has(this.targetName(c)) ? this.targetName(c) : have.has(c) ? c : undefined);
    if (nameIn(this.keyColumn) === undefined) throw new Error(`verify: ${this.schema}.${table} has no column ${this.targetName(this.keyColumn)} (the key)`);
    const cols = this.generator.columns.filter((c) => nameIn(c) !== undefined);
    const skippedColumns = this.generator.columns.filter((c) => nameIn(c) === undefined);
    const keyIdx = cols.indexOf(this.keyColumn);
    const select = cols.map((c, i) => `${quoteIdent(nameIn(c)!)}::text AS c${i}`).join(', ');
    const res = await this.db.query(`SELECT ${select} FROM ${qualified(this.schema, table)}`);
    const seen = new Map<number, number>();
    const extra: number[] = [];
    const mismatched: number[] = [];
    const duplicates: number[] = [];
    for (const r of res.rows) {
      const key = Number(r[`c${keyIdx}`]);
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n === 2) duplicates.push(key);
      const want = source.get(key);
      if (want === undefined) {
        extra.push(key);
        continue;
      }
      const same = cols.every((c, i) => sameValue(r[`c${i}`], want[c]));
      if (!same && n === 1) mismatched.push(key);
    }
    const missing: number[] = [];
    for (const k of source.keys()) if (!seen.has(k)) missing.push(k);
    const ok = missing.length === 0 && extra.length === 0 && mismatched.length === 0 && duplicates.length === 0;
    const cap = (a: number[]): number[] => a.slice(0, 20);
    const summary = ok
      ? `${this.schema}.${table} matches the source: ${source.size} rows`
      : `${this.schema}.${table} differs from the source (${source.size} rows expected, ${res.rows.length} found): ` +
        `${missing.length} missing, ${extra.length} extra, ${mismatched.length} different, ${duplicates.length} duplicated keys` +
        (missing.length ? `; missing e.g. ${cap(missing).join(',')}` : '') +
        (extra.length ? `; extra e.g. ${cap(extra).join(',')}` : '') +
        (mismatched.length ? `; different e.g. ${cap(mismatched).join(',')}` : '');
    return {
      ok,
      expectedRows: source.size,
      targetRows: res.rows.length,
      missingCount: missing.length,
      extraCount: extra.length,
      mismatchedCount: mismatched.length,
      duplicateCount: duplicates.length,
      missing: cap(missing),
      extra: cap(extra),
      mismatched: cap(mismatched),
      duplicates: cap(duplicates),
      summary,
      columns: [...cols],
      skippedColumns,
    };
  }

  protected abstract applyStep(): Promise<void>;
  protected afterSeed(_n: number): void {}

  // ── helpers for subclasses ──

  protected get target(): string {
    return qualified(this.schema, this.table);
  }

  /** The target's name for a generator column. */
  protected targetName(col: string): string {
    return this.columnMap.get(col) ?? col;
  }

  /** The columns `table` has now; undefined when it does not exist. */
  protected async readColumns(table = this.table): Promise<Set<string> | undefined> {
    const r = await this.db.query('SELECT column_name::text AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [this.schema, table]);
    if (r.rows.length === 0) return undefined;
    return new Set(r.rows.map((x) => String(x.c)));
  }

  /** The target's columns, re-read when older than columnRefreshMs (or `force`). */
  protected async targetColumns(force = false): Promise<Set<string> | undefined> {
    const now = Date.now();
    if (force || this.targetCols === undefined || now - this.targetColsAt >= this.columnRefreshMs) {
      this.targetCols = await this.readColumns();
      this.targetColsAt = now;
    }
    return this.targetCols;
  }

  protected forgetColumns(): void {
    this.targetCols = undefined;
    this.targetColsAt = Number.NEGATIVE_INFINITY;
  }

  /**
   * What a write names: the generator's columns the target has (all of them when the table is missing, so the write
   * fails as "does not exist"), the key always; plus `updated_at` stamped with the loop's clock when the target has
   * it and the generator does not write it.
   */
  private async writePlan(force: boolean): Promise<WritePlan> {
    const have = await this.targetColumns(force);
    // a mapped (renamed) column is written under its new name once the target has it, under the old one until then:
    // the replication's column mapping follows the rename whenever the table takes it (in place, or at a swap)
    const name = (c: string): string => {
      const mapped = this.targetName(c);
      return have !== undefined && !have.has(mapped) && have.has(c) ? c : mapped;
    };
    const cols = this.generator.columns.filter((c) => c === this.keyColumn || have === undefined || have.has(name(c)));
    const writesUpdatedAt = cols.some((c) => name(c) === 'updated_at');
    const stamp = have !== undefined && have.has('updated_at') && !writesUpdatedAt ? sqlTimestamp(this.now()) : undefined;
    return { cols, stamp, name };
  }

  /** Run `write` with the current column plan; on an undefined-column error re-read the columns and run it once more. */
  private async withColumns(write: (plan: WritePlan) => Promise<void>): Promise<void> {
    try {
      await write(await this.writePlan(false));
    } catch (err) {
      if (!isUndefinedColumn(err)) {
        if (classify(err) === 'missing') this.forgetColumns();
        throw err;
      }
      this.columnRereads++;
      try {
        await write(await this.writePlan(true));
      } catch (err2) {
        if (classify(err2) === 'missing') this.forgetColumns();
        throw err2;
      }
    }
  }

  /** Run one change against the target. Throws the database error as is. */
  protected async exec(c: ChangeRecord): Promise<void> {
    const key = quoteIdent(this.targetName(this.keyColumn));
    if (c.kind === 'delete') {
      try {
        await this.db.query(`DELETE FROM ${this.target} WHERE ${key} = $1`, [c.key]);
      } catch (err) {
        if (classify(err) === 'missing') this.forgetColumns();
        throw err;
      }
      return;
    }
    await this.withColumns(async ({ cols, stamp, name }) => {
      if (c.kind === 'insert') {
        const names = [...cols.map((col) => name(col)), ...(stamp !== undefined ? ['updated_at'] : [])];
        const values = [...cols.map((col) => c.row![col] ?? null), ...(stamp !== undefined ? [stamp] : [])];
        await this.db.query(`INSERT INTO ${this.target} (${names.map(quoteIdent).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`, values);
        return;
      }
      const set = cols.filter((col) => col !== this.keyColumn);
      const names = [...set.map((col) => name(col)), ...(stamp !== undefined ? ['updated_at'] : [])];
      if (names.length === 0) return; // the target has no column this update changes
      const values = [...set.map((col) => c.row![col] ?? null), ...(stamp !== undefined ? [stamp] : [])];
      await this.db.query(`UPDATE ${this.target} SET ${names.map((n, i) => `${quoteIdent(n)} = $${i + 1}`).join(', ')} WHERE ${key} = $${names.length + 1}`, [...values, c.key]);
    });
  }

  /**
   * Replace the target's content with the source table's (a full load, TRUNCATE_BEFORE_LOAD): the target is emptied,
   * then the source is read in key order, `loadChunkRows` at a time, each chunk inserted before the next is read;
   * `progress(rowsSoFar)` after each chunk. The source is read at the binlog position `flushed` (no write lands in it
   * while the load runs: ticks do not overlap). Returns the row count.
   */
  protected async loadAll(progress?: (rows: number) => void): Promise<number> {
    await this.flushSource();
    await this.db.query(`DELETE FROM ${this.target}`);
    let total = 0;
    let after: number | undefined;
    for (;;) {
      const chunk = await this.sourceTable.readChunk(after, this.loadChunkRows);
      if (chunk.length === 0) break;
      await this.insertRows(chunk);
      total += chunk.length;
      progress?.(total);
      if (chunk.length < this.loadChunkRows) break;
      after = Number(chunk[chunk.length - 1]![this.keyColumn]);
      if (this.loadChunkDelayMs > 0) await new Promise((r) => setTimeout(r, this.loadChunkDelayMs));
    }
    return total;
  }

  protected async insertRows(rows: readonly SourceRow[]): Promise<void> {
    const per = Math.max(1, Math.floor(5000 / (this.generator.columns.length + 1)));
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per);
      // one chunk per attempt: a retry after a column change never repeats a chunk that went in
      await this.withColumns(async ({ cols, stamp, name }) => {
        const names = [...cols.map((col) => name(col)), ...(stamp !== undefined ? ['updated_at'] : [])];
        const params: unknown[] = [];
        const tuples = chunk.map((r) => {
          const vals = [...cols.map((c) => r[c] ?? null), ...(stamp !== undefined ? [stamp] : [])];
          return `(${vals.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`;
        });
        await this.db.query(`INSERT INTO ${this.target} (${names.map(quoteIdent).join(', ')}) VALUES ${tuples.join(', ')}`, params);
      });
    }
  }

  private settledCount = 0;

  protected markApplied(c: ChangeRecord, via: 'apply' | 'load'): void {
    c.fate = 'applied';
    c.at = this.now();
    c.order = ++this.settledCount;
    c.via = via;
    this.lastAppliedAt = c.at;
    if (via === 'load') this.counters.appliedByLoad++;
    else this.counters.applied++;
  }

  protected markFailed(c: ChangeRecord, error: string): void {
    c.fate = 'failed';
    c.at = this.now();
    c.order = ++this.settledCount;
    c.error = error;
    this.counters.failed++;
  }

  /** Mark every pending change up to `end` (exclusive) and move the cursor there. */
  protected settleUpTo(end: number, fate: { applied: 'load' } | { failed: string }): void {
    for (let i = this.cursor; i < end; i++) {
      const c = this.log[i]!;
      if (c.fate !== 'pending') continue;
      if ('applied' in fate) this.markApplied(c, 'load');
      else this.markFailed(c, fate.failed);
    }
    this.cursor = Math.max(this.cursor, end);
  }

  protected notePending(): void {
    this.counters.maxPending = Math.max(this.counters.maxPending, this.pendingCount());
  }

  protected noteError(err: unknown): void {
    this.lastError = errText(err);
    this.onError?.(toError(err));
  }

  protected classify(err: unknown): ErrorClass {
    return classify(err);
  }

  /** the binlog's end: changes the source has committed (a replicator reads nothing beyond it) */
  protected logLength(): number {
    return this.flushed;
  }

  protected changeAt(i: number): ChangeRecord {
    return this.log[i]!;
  }

  private setLive(key: number, row: SourceRow): void {
    this.source.set(key, row);
    this.deleted.delete(key);
    if (!this.liveIndex.has(key)) {
      this.liveIndex.set(key, this.liveKeys.length);
      this.liveKeys.push(key);
    }
  }

  private setDeleted(key: number): void {
    this.source.delete(key);
    this.deleted.add(key);
    const i = this.liveIndex.get(key);
    if (i === undefined) return;
    const last = this.liveKeys.pop()!;
    if (last !== key) {
      this.liveKeys[i] = last;
      this.liveIndex.set(last, i);
    }
    this.liveIndex.delete(key);
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule());
    }, this.tickMs);
    this.timer.unref();
  }
}

// ───────────────────────────── DMS ─────────────────────────────

export interface DmsApplyLoopOptions extends ApplyLoopOptions {
  dms: DmsSandbox;
  /** the task's ARN or identifier */
  task: string;
}

export class DmsApplyLoop extends ApplyLoopBase {
  private readonly dms: DmsSandbox;
  readonly binding: DmsTableBinding;
  private loadedGeneration: number;
  private cdcGeneration: number;

  constructor(opts: DmsApplyLoopOptions) {
    super(opts);
    this.dms = opts.dms;
    this.binding = opts.dms.attachTable(opts.task, opts.schema, opts.table);
    // a table already loaded when the loop attaches needs no load; one queued for load gets it on the first tick
    this.loadedGeneration = this.binding.tableState() === 'Before load' ? -1 : this.binding.loadGeneration();
    this.cdcGeneration = this.binding.cdcGeneration();
  }

  get taskArn(): string {
    return this.binding.taskArn;
  }

  /** Fault knob: the task's next resume-processing ends in `failed` with this LastFailureMessage. */
  failResume(message?: string): void {
    this.dms.failNextResume(this.binding.taskArn, message);
  }

  /** Fault knob: `n` `]E:` lines about this table appear in the task's log stream once it runs again after resume-processing. */
  injectLogErrors(n: number): void {
    const lines: string[] = [];
    for (let i = 1; i <= n; i++)
      lines.push(
        `Failed to apply change ${i}/${n} to table '${this.schema}'.'${this.table}': RetCode: SQL_ERROR  SqlState: XX000 NativeError: 30 Message: [Amazon][Amazon Redshift] (30) Error occurred while trying to execute a query: ERROR:  injected by the sandbox [1022502]  (ar_odbc_stmt.c:4815)`,
      );
    this.dms.injectLogErrorsOnResume(this.binding.taskArn, lines);
  }

  /**
   * Stop ticking and detach from the task's table (the sandbox then completes its loads on its own). `detach: false`
   * only pauses: the table stays this loop's, and a load queued meanwhile waits for `start()` (lets a test see
   * `Table is being reloaded` / `Before load` before the load begins).
   */
  override async stop(o: { detach?: boolean } = {}): Promise<void> {
    await super.stop();
    if (o.detach !== false) this.binding.detach();
  }

  protected override afterSeed(n: number): void {
    this.binding.addLoadedRows(n);
  }

  /** Fault knob: the table goes to `Table error` now (changes to it are lost until ReloadTables / reload-target). */
  injectTableError(reason = 'injected by the sandbox'): void {
    const b = this.binding;
    b.log([
      {
        component: 'TARGET_APPLY',
        severity: 'E',
        text: `Failed to apply changes to table '${this.schema}'.'${this.table}': ${reason} [1022502]  (odbc_endpoint_imp.c:7644)`,
      },
      {
        component: 'TASK_MANAGER',
        severity: 'W',
        text: `Table '${this.schema}'.'${this.table}' was suspended: Table error (TableErrorPolicy SUSPEND_TABLE); changes to it are not applied until the table is reloaded [1025805]  (replicationtask.c:2822)`,
      },
    ]);
    b.suspend();
  }

  /**
   * Fault knob: the task stops with FATAL_ERROR now (Status failed, StopReason `Stop Reason FATAL_ERROR`). Unapplied
   * changes stay in the binlog: resume-processing applies them (unless the retention purged them meanwhile).
   */
  injectFatalError(reason = 'Error executing command (injected by the sandbox)'): void {
    this.binding.failTask(`Last Error ${reason}. Task error notification received from subtask 0, thread 0 [1020101] Stop Reason FATAL_ERROR Error Level FATAL`);
  }

  /** set while the task's binlog position was purged: every start but a reload fails until a full load */
  private binlogLost: string | undefined;

  protected async applyStep(): Promise<void> {
    const b = this.binding;
    if (b.cdcGeneration() !== this.cdcGeneration) {
      // cdc-only start-replication: DMS starts reading the binlog from now; older unapplied changes are never applied
      this.cdcGeneration = b.cdcGeneration();
      this.settleUpTo(this.logLength(), { failed: 'skipped: the task was restarted with start-replication (CDC from the new start point)' });
      this.binlogLost = undefined;
      this.broken = undefined;
    }
    if (!b.canApply()) return;
    const state = b.tableState();
    if (b.loadGeneration() !== this.loadedGeneration && (state === 'Before load' || state === 'Full load' || state === 'Table is being reloaded')) {
      await this.fullLoad();
      if (this.binlogLost === undefined) this.broken = undefined;
      return;
    }
    if (this.binlogLost === undefined && this.cursor < this.logLength() && this.isPurged(this.cursor)) {
      const retention = this.retentionText();
      const n = this.losePurged(`lost: purged from the source's binlog (retention ${retention}) before DMS read it`);
      this.binlogLost = `the source's binlog no longer holds the task's position: ${n} change(s) to ${this.qualifiedName} were purged (binlog retention ${retention}) before DMS read them`;
      this.broken = `${this.binlogLost}; reload the table (start the task with reload-target) to copy the source again`;
    }
    if (this.binlogLost !== undefined) {
      b.log([
        {
          component: 'SOURCE_CAPTURE',
          severity: 'E',
          text: 'Read next binary log event failed; mariadb_rpl_fetch error 1236 (Could not find first log file name in binary log index file) [1020403]  (mysql_endpoint_capture.c:1060)',
        },
      ]);
      b.failTask(`Last Error Could not find first log file name in binary log index file: ${this.binlogLost}. Task error notification received from subtask 0, thread 0 [1020403] Stop Reason FATAL_ERROR Error Level FATAL`);
      return;
    }
    if (b.tableState() === 'Table error') {
      this.settleUpTo(this.logLength(), { failed: `table ${this.qualifiedName} is suspended (Table error): reload it to resume replication` });
      return;
    }
    let n = 0;
    while (this.cursor < this.logLength() && n < this.batchSize) {
      if (!b.canApply() || b.tableState() !== 'Table completed') break;
      const c = this.changeAt(this.cursor);
      b.begin();
      let advance = true;
      try {
        await this.exec(c);
        this.markApplied(c, 'apply');
        b.recordApplied(c.kind);
      } catch (err) {
        const cls = this.classify(err);
        if (cls === 'missing') {
          b.log(this.missingLines(err, c));
          if (b.tableErrorPolicy() === 'STOP_TASK') {
            advance = false;
            b.failTask(
              `Last Error Table '${this.schema}'.'${this.table}' does not exist; TableErrorPolicy STOP_TASK stopped the task. Task error notification received from subtask 0, thread 0 [1020417] Stop Reason FATAL_ERROR Error Level FATAL`,
            );
          } else {
            this.markFailed(c, `table ${this.qualifiedName} does not exist`);
            b.suspend();
            b.log([
              {
                component: 'TASK_MANAGER',
                severity: 'W',
                text: `Table '${this.schema}'.'${this.table}' was suspended: Table error (TableErrorPolicy SUSPEND_TABLE); changes to it are not applied until the table is reloaded [1025805]  (replicationtask.c:2822)`,
              },
            ]);
          }
        } else if (cls === 'data') {
          this.markFailed(c, errText(err));
          this.noteError(err);
          b.log([
            {
              component: 'TARGET_APPLY',
              severity: 'E',
              text: `Failed to apply ${c.kind} of key ${c.key} to table '${this.schema}'.'${this.table}': ${errText(err).replace(/\s+/g, ' ')} [1022502]  (odbc_endpoint_imp.c:7644)`,
            },
          ]);
        } else {
          advance = false;
          this.noteError(err);
        }
        if (!advance) break;
      } finally {
        if (advance) this.cursor++;
        b.end();
      }
      n++;
    }
  }

  private async fullLoad(): Promise<void> {
    const b = this.binding;
    const generation = b.loadGeneration();
    b.begin();
    try {
      await this.flushSource();
      const end = this.logLength();
      b.loadStarted(await this.sourceTable.count());
      b.log([{ component: 'SOURCE_UNLOAD', severity: 'I', text: `Unload of table '${this.schema}'.'${this.table}' started (${this.sourceDb.kind === 'mariadb' ? 'MariaDB' : 'embedded'} source)  (streamcomponent.c:2024)` }]);
      const rows = await this.loadAll((n) => b.loadProgress(n));
      this.settleUpTo(end, { applied: 'load' });
      this.loadedGeneration = generation;
      this.binlogLost = undefined;
      this.counters.loads++;
      b.loadFinished(rows);
      b.log([{ component: 'TARGET_LOAD', severity: 'I', text: `Load finished for table '${this.schema}'.'${this.table}'. ${rows} rows received.  (streamcomponent.c:3543)` }]);
    } catch (err) {
      if (this.classify(err) === 'missing') {
        this.loadedGeneration = generation;
        b.log(this.missingLines(err, undefined));
        b.suspend();
      } else {
        this.noteError(err);
      }
    } finally {
      b.end();
    }
  }

  private missingLines(err: unknown, c: ChangeRecord | undefined): { component: string; severity: 'E'; text: string }[] {
    const pgMsg = errText(err).replace(/\s+/g, ' ');
    return [
      {
        component: 'TARGET_APPLY',
        severity: 'E',
        text: `RetCode: SQL_ERROR  SqlState: 42P01 NativeError: 30 Message: [Amazon][Amazon Redshift] (30) Error occurred while trying to execute a query: [SQLState 42P01] ERROR:  ${pgMsg} [1022502]  (ar_odbc_stmt.c:4815)`,
      },
      {
        component: 'TARGET_APPLY',
        severity: 'E',
        text: `Table '${this.schema}'.'${this.table}' does not exist${c ? ` (${c.kind} of ${this.keyColumn}=${c.key} was not applied)` : ' (load failed)'} [1020417]  (odbc_endpoint_imp.c:6520)`,
      },
    ];
  }
}

// ───────────────────────────── CDC (FlyData-like) ─────────────────────────────

export class CdcApplyLoop extends ApplyLoopBase {
  /** the service's read position in the binlog: changes before it are in its buffer (safe from binlog purges) */
  private readUpTo = 0;
  private outage = false;

  /**
   * Fault knob: the CDC service is down (true) or back (false). While down it reads nothing from the binlog; changes
   * older than the binlog retention when it comes back are gone, and the table is broken until `reload()`.
   */
  setOutage(down: boolean): void {
    this.outage = down;
  }

  /**
   * A reload of the table, as requested on the CDC service's dashboard: the target is created when missing (the
   * service's own shape: columns and types, no keys), emptied, and filled from the source; replication continues
   * from the source's current binlog position. Returns the rows loaded.
   */
  async reload(): Promise<number> {
    while (this.reloading) await this.reloading;
    let rows = 0;
    this.reloading = (async () => {
      // a tick already applying (it passed the `reloading` check before this began) must finish first: once the table
      // is created below, its next buffered insert would land AND be copied by the load — a duplicate key
      await this.settleTick();
      await this.flushSource();
      const end = this.logLength();
      this.sourceFrozen = true;
      try {
        if ((await this.readColumns()) === undefined) await this.createTarget();
        this.forgetColumns();
        rows = await this.loadAll();
      } finally {
        this.sourceFrozen = false;
      }
      this.settleUpTo(end, { applied: 'load' });
      this.readUpTo = Math.max(this.readUpTo, end);
      this.broken = undefined;
      this.missingSince = undefined;
      this.counters.loads++;
    })();
    try {
      await this.reloading;
    } finally {
      this.reloading = undefined;
    }
    return rows;
  }

  private reloading: Promise<void> | undefined;

  private async createTarget(): Promise<void> {
    const types = this.generator.types ?? {};
    const cols = this.generator.columns.map((c) => `${quoteIdent(c)} ${types[c] ?? 'varchar(65535)'}`);
    await this.db.query(`CREATE TABLE ${this.target} (${cols.join(', ')})`);
  }

  protected async applyStep(): Promise<void> {
    if (this.reloading) return;
    if (this.outage) return;
    if (this.broken === undefined && this.readUpTo < this.logLength()) {
      // the service reads what the binlog still holds; a gap older than the retention breaks the table
      const from = Math.max(this.cursor, this.readUpTo);
      if (from < this.logLength() && this.isPurged(from)) {
        const retention = this.retentionText();
        const keep = this.cursor;
        this.cursor = from;
        const n = this.losePurged(`lost: purged from the source's binlog (retention ${retention}) while the CDC service was not reading`);
        this.cursor = keep;
        this.broken = `${n} change(s) to ${this.qualifiedName} were purged from the source's binlog (retention ${retention}) before the CDC service read them: reload the table from the CDC service's dashboard`;
        this.noteError(new Error(this.broken));
      }
    }
    if (this.broken !== undefined) {
      // nothing is applied until the reload; what arrives meanwhile is lost with the rest (the reload copies it)
      this.settleUpTo(this.logLength(), { failed: `not applied: ${this.qualifiedName} is broken until a reload` });
      this.readUpTo = this.logLength();
      return;
    }
    this.readUpTo = this.logLength();
    let n = 0;
    while (this.cursor < this.logLength() && n < this.batchSize) {
      const c = this.changeAt(this.cursor);
      try {
        await this.exec(c);
        this.markApplied(c, 'apply');
        this.cursor++;
        if (this.missingSince !== undefined) this.missingSince = undefined;
      } catch (err) {
        if (this.classify(err) === 'missing') {
          if (this.missingSince === undefined) {
            this.missingSince = this.now();
            this.counters.missingEpisodes++;
          }
        } else {
          // a load error: the service alerts and retries; the change stays buffered, order is kept
          this.noteError(err);
        }
        this.notePending();
        return;
      }
      n++;
    }
  }
}
