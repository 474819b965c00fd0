/**
 * Shapes shared by the modify planner (planner.ts), the op applier (apply-ops.ts) and the SQL builders (sql.ts, delta.ts,
 * grants.ts). Everything here is plain data (JSON-serializable) so a plan can be stored in a job's record, printed by
 * `plan` / `--dry-run`, and recomputed deterministically from the command.
 */
import type { Encoding } from '../schema/types.js';
import type { TableDef } from '../schema/model.js';
import type { VerifySpec } from './sql.js';

/**
 * Where one column of the new table gets its values from, in the new table's column order:
 * - `column`: the old column `from` (same type; a rename when from ≠ target);
 * - `default`: an added column: its default (NULL when it has none);
 * - `cast`: the old column `from` converted to the canonical `type`.
 */
export type ColumnSource = { target: string } & (
  | { kind: 'column'; from: string }
  | { kind: 'default' }
  | { kind: 'cast'; from: string; type: string }
);

/** A value the bot produced at run time and puts into SQL (validated and quoted by sql.ts), or a placeholder for plans. */
export type SqlMark =
  /** a timestamp as Redshift prints it: `YYYY-MM-DD HH:MM:SS[.ffffff]` */
  | { ts: string }
  /** a whole number (an id), as a decimal string so bigint values keep every digit */
  | { int: string }
  /** not known yet (a plan): printed as `{{name}}`, filled at run time (run-values.ts) */
  | { placeholder: string };

/** One thing a plan step does. */
export type PlanAction =
  /** one statement on its own (autocommit). `outsideTransaction`: must never be put into a batch or BEGIN…END block */
  | { kind: 'sql'; sql: string; outsideTransaction?: boolean }
  /** statements that run as ONE transaction (one Data API BatchExecuteStatement) */
  | { kind: 'batch'; sql: string[] }
  /** a read-only query whose result the runbook looks at; `expect` says what result lets the job go on */
  | { kind: 'query'; sql: string; params?: Record<string, string>; expect: string }
  /** an AWS call (DMS, CloudWatch Logs), described here and made by the runbook */
  | { kind: 'aws'; text: string }
  /** a human decision (approval button / console prompt) */
  | { kind: 'gate'; text: string }
  /** something the bot does outside the warehouse (rewrite schemas/, commit) */
  | { kind: 'note'; text: string };

/**
 * What the world looks like once an in-place step has run, checked against the live table read back from the catalog
 * (src/schema/catalog.ts readTable) so a resumed job never runs an ALTER twice (invariant 4). See isStepDone.
 */
export type Expectation =
  | { kind: 'column'; column: string; present: true; type?: string; encode?: Encoding }
  | { kind: 'column'; column: string; present: false }
  | { kind: 'dist'; distStyle: TableDef['distStyle']; distKey?: string }
  | { kind: 'sort'; style: TableDef['sortKey']['style']; columns: string[] };

export interface DoneCheck {
  /** human form: "column foo exists with type varchar(64)" */
  description: string;
  /** all must hold */
  expect: Expectation[];
}

export interface PlanStep {
  /** stable id (`alter-1`, `create`, `copy`, `swap`…) */
  name: string;
  title: string;
  actions: PlanAction[];
  notes: string[];
  /** in-place steps: how to tell the step already ran */
  done?: DoneCheck;
  /** said to the user (a warning line) when the step runs, e.g. a rollback that cannot carry every change back */
  warnings?: string[];
}

/** A narrowing conversion checked on the data before the copy (sql.ts narrowingChecks). */
export interface NarrowingCheck {
  /** the table the check reads (the old table's name) */
  table: string;
  /** the old column and the new one */
  column: string;
  target: string;
  from: string;
  to: string;
  /** length: too long; range: out of the new type's range; magnitude: too many integer digits; scale: decimals lost;
   *  format: text that does not read as the new type; time-of-day: timestamp → date drops the time */
  kind: 'length' | 'range' | 'magnitude' | 'scale' | 'format' | 'time-of-day';
  /** block: refuse the change while offending rows exist; warn: report and go on */
  severity: 'block' | 'warn';
  /** returns one row: `offending` (count) and `worst` (text or NULL) */
  sql: string;
  /** what `worst` is, for the message */
  limit: string;
}

/** A primary-key column across the copy: old name, new name, and the new type when the change converts it. */
export interface DeltaKeyColumn {
  column: string;
  target: string;
  /** the new column's type when the mapping casts the key (comparisons then CAST the old column to it) */
  cast?: string;
}

/** How a live copy (cdc tables) finds the rows that changed while it ran. */
export type DeltaPlan =
  | {
      kind: 'updated_at';
      /** old column / new column holding the change time */
      column: string;
      target: string;
      primaryKey: DeltaKeyColumn[];
      /** the copy mark is max(column) read just before the copy minus this margin */
      marginSeconds: number;
      /** run before the copy: returns `mark` (the table's max(updated_at)) */
      markQuery: string;
      notes: string[];
    }
  | {
      kind: 'append-id';
      column: string;
      target: string;
      primaryKey: DeltaKeyColumn[];
      markQuery: string;
      notes: string[];
    }
  | { kind: 'full'; primaryKey: DeltaKeyColumn[]; notes: string[] };

/** A foreign key of another table that points at the modified table and is re-created after `old_<t>` is dropped. */
export interface RecreatedForeignKey {
  schema: string;
  table: string;
  columns: string[];
  /** the referenced columns, with the modify's renames applied */
  references: string[];
  sql: string;
}

/** A grant read from the old table's ACL (grants.ts parseAcl). */
export interface AclGrant {
  /** user or group name; '' for PUBLIC */
  grantee: string;
  granteeKind: 'user' | 'group' | 'public';
  /** privilege keywords as GRANT takes them (SELECT, INSERT, …) */
  privileges: string[];
  /** the subset held WITH GRANT OPTION */
  grantable: string[];
  grantor: string;
}

export interface ModifyPlan {
  ok: true;
  table: { schema: string; name: string };
  mode: 'in-place' | 'deep-copy';
  /** why a deep copy (empty for in place) */
  reasons: string[];
  current: TableDef;
  next: TableDef;
  mapping: ColumnSource[];
  provider: 'dms' | 'cdc';
  /** deep copy of a cdc table only */
  strategy?: 'live-copy' | 'rename-first';
  /**
   * deep copy: how the strategy follows from the table's declared changeTracking, with the expected lock time (or
   * unavailability) computed from the table's size — the first line is the headline, the rest are bullets
   */
  strategyWhy?: string[];
  /** names of the work tables */
  names: { table: string; newTable: string; oldTable: string };
  steps: PlanStep[];
  /** steps that undo a deep copy before `old_<t>` is dropped */
  rollback: PlanStep[];
  warnings: string[];
  narrowingChecks: NarrowingCheck[];
  delta?: DeltaPlan;
  /** deep copy: the verify step's queries (as printed) and what they compare */
  verify?: VerifySpec;
  /** cdc live copy with a change column: the sub-statement of the swap batch (0-based) that returns swap_mark */
  swapMarkIndex?: number;
  /** live copy, full delta: index in the swap batch of the statement returning new_<t>'s checksum under the lock (post-verify compares old_<t> with it) */
  checksumIndex?: number;
  foreignKeys: RecreatedForeignKey[];
  /** other tables whose schemas/ files change with this one (their foreign keys name a renamed column) */
  referencingUpdates: TableDef[];
}

export interface PlanError {
  ok: false;
  error: string;
}
