/**
 * The typed result of reading a `/redshift …` command: a zod discriminated union (`commandSchema`) so the queue can
 * re-validate job data it stored, plus the error value a user sees when the text is not a command.
 *
 * Names in a Command are the ones schemas/ stores (existing tables and columns, exactly as the registry spells them) or
 * new plain identifiers (`[a-z_][a-z0-9_]*`, not reserved, ≤ 127 bytes); types are canonical (types.ts); defaults are
 * restricted SQL literals (model.ts DEFAULT_LITERAL). Nothing in a Command is free user text that could reach SQL.
 */
import { z } from 'zod';
import type { Registry } from '../schema/registry.js';
import { columnDef, identifier } from '../schema/model.js';
import { RESERVED } from '../schema/identifiers.js';
import { ENCODINGS, LIMITS } from '../schema/types.js';

/**
 * What the parser needs of the registry (schemas/): tests may build one from hand-written TableDefs. With `tables`, an
 * unknown bare name is also looked up in the other schemas ("did you mean ops.audit_event?").
 */
export type RegistryLike = Pick<Registry, 'defaultSchema' | 'get' | 'find' | 'names'> & Partial<Pick<Registry, 'tables'>>;

export interface ParseContext {
  registry: RegistryLike;
}

/** A readable, positioned error: what is wrong, where (1-based column into the text as given), and what to do. */
export interface CommandError {
  message: string;
  /** 1-based index (UTF-16 code units) into the input text; input.length + 1 means "at the end" */
  column: number;
  /** the offending text exactly as it appears at `column` (the caret spans it) */
  word?: string;
  /** the likely intended word or clause ("core_action", "varchar", "default ''") */
  suggestion?: string;
  /** the grammar of the command (or op) being read */
  usage?: string;
}

export const MAX_INPUT_LENGTH = 4000;

/** A new name: what chat input can carry (never quoted), stored as Redshift would store it. */
export const NEW_NAME = /^[a-z_][a-z0-9_]*$/;

export const newName = z.string().superRefine((s, ctx) => {
  if (!NEW_NAME.test(s)) ctx.addIssue({ code: 'custom', message: `"${s}" is not a plain name ([a-z_][a-z0-9_]*)` });
  else if (s.length > LIMITS.identifierBytesMax) ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 20)}…" is longer than ${LIMITS.identifierBytesMax} bytes` });
  else if (RESERVED.has(s)) ctx.addIssue({ code: 'custom', message: `"${s}" is a Redshift reserved word` });
});

export const tableRef = z.strictObject({ schema: identifier, name: identifier });
export type TableRef = z.output<typeof tableRef>;

export const STRATEGIES = ['live-copy', 'rename-first'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const SETTABLE_DIST_STYLES = ['EVEN', 'ALL', 'AUTO'] as const;
export const SETTABLE_SORT_STYLES = ['COMPOUND', 'INTERLEAVED', 'NONE', 'AUTO'] as const;

export const opSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add_column'), column: columnDef }).superRefine((o, ctx) => {
    const r = newName.safeParse(o.column.name);
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['column', 'name'], message: r.error.issues[0]?.message ?? 'bad name' });
    if (o.column.notNull && (o.column.default === undefined || o.column.default === 'NULL'))
      ctx.addIssue({ code: 'custom', path: ['column', 'default'], message: 'a NOT NULL column added to a table with rows needs a non-NULL default' });
  }),
  z.strictObject({ op: z.literal('drop_column'), column: identifier }),
  z.strictObject({ op: z.literal('rename_column'), from: identifier, to: newName }),
  z.strictObject({ op: z.literal('alter_column_type'), column: identifier, type: columnDef.shape.type }),
  z.strictObject({ op: z.literal('alter_column_encode'), column: identifier, encode: z.enum(ENCODINGS) }),
  z.strictObject({ op: z.literal('set_distkey'), column: identifier }),
  z.strictObject({ op: z.literal('set_diststyle'), style: z.enum(SETTABLE_DIST_STYLES) }),
  z
    .strictObject({ op: z.literal('set_sortkey'), style: z.enum(SETTABLE_SORT_STYLES), columns: z.array(identifier) })
    .superRefine((o, ctx) => {
      const keyed = o.style === 'COMPOUND' || o.style === 'INTERLEAVED';
      if (keyed && o.columns.length === 0) ctx.addIssue({ code: 'custom', path: ['columns'], message: `a ${o.style} sort key needs columns` });
      if (!keyed && o.columns.length > 0) ctx.addIssue({ code: 'custom', path: ['columns'], message: `sort key ${o.style} takes no columns` });
      if (o.style === 'INTERLEAVED' && o.columns.length > 8) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'an interleaved sort key has at most 8 columns' });
      if (o.columns.length > 400) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'a sort key has at most 400 columns' });
      if (new Set(o.columns).size !== o.columns.length) ctx.addIssue({ code: 'custom', path: ['columns'], message: 'a sort key names a column twice' });
    }),
]);
export type Op = z.output<typeof opSchema>;

export const modifyCommandSchema = z.strictObject({
  kind: z.literal('modify'),
  table: tableRef,
  ops: z.array(opSchema).min(1).max(200),
  dryRun: z.boolean(),
  /** force the deep copy even when every op could run in place */
  deepCopy: z.boolean(),
  /** go ahead although the live table differs from schemas/ */
  forceDrift: z.boolean(),
  /** cdc tables only; absent = the configured default */
  strategy: z.enum(STRATEGIES).optional(),
});

/** cron's day numbers: 0 = Sunday … 6 = Saturday */
export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

const jobId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'a job id is letters, digits, _ . - (at most 100)');

export const commandSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('help'), topic: z.string().regex(/^[a-z]+$/).optional() }),
  z.strictObject({ kind: z.literal('status'), table: tableRef.optional() }),
  modifyCommandSchema,
  z.strictObject({ kind: z.literal('recover'), table: tableRef, dryRun: z.boolean() }),
  z.strictObject({ kind: z.literal('setup'), dryRun: z.boolean() }),
  z.strictObject({ kind: z.literal('jobs') }),
  z.strictObject({ kind: z.literal('job'), id: jobId }),
  z.strictObject({ kind: z.literal('cancel'), id: jobId }),
  z.strictObject({ kind: z.literal('rollback'), id: jobId }),
  z.strictObject({ kind: z.literal('unlock'), table: tableRef }),
  z
    .strictObject({ kind: z.literal('compare'), all: z.boolean(), table: tableRef.optional() })
    .superRefine((c, ctx) => {
      if (c.all === (c.table !== undefined)) ctx.addIssue({ code: 'custom', path: ['table'], message: 'give a table or --all (not both)' });
    }),
  z.strictObject({ kind: z.literal('schema-diff'), table: tableRef.optional(), source: z.literal(true).optional() }),
  z.strictObject({ kind: z.literal('hygiene') }),
  z.strictObject({ kind: z.literal('hygiene-run'), table: tableRef }),
  z
    .strictObject({
      kind: z.literal('hygiene-schedule'),
      action: z.enum(['show', 'set', 'off']),
      weekday: z.number().int().min(0).max(6).optional(),
      time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).optional(),
    })
    .superRefine((c, ctx) => {
      if ((c.action === 'set') !== (c.weekday !== undefined && c.time !== undefined)) ctx.addIssue({ code: 'custom', path: ['time'], message: 'a day and a time go with set, and only with set' });
    }),
  z
    .strictObject({ kind: z.literal('schema-apply'), all: z.boolean(), tables: z.array(tableRef), dryRun: z.boolean() })
    .superRefine((c, ctx) => {
      if (c.all === (c.tables.length > 0)) ctx.addIssue({ code: 'custom', path: ['tables'], message: 'give tables or --all (not both)' });
    }),
]);
export type Command = z.output<typeof commandSchema>;
export type CommandKind = Command['kind'];
export type CommandOf<K extends CommandKind> = Extract<Command, { kind: K }>;

export type ParseResult = { ok: true; command: Command } | { ok: false; error: CommandError };
