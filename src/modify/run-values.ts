/**
 * Values a plan cannot know when it is printed, filled in at run time. The plan (planner.ts) is the one source of the
 * SQL a modify job runs: where a statement needs a value only the job knows, the plan holds a placeholder, and the
 * runbook fills it from the job's recorded, typed handles — never from user text:
 *
 *   {{copy_mark}}, {{swap_mark}}  a mark the job read back from the warehouse (max updated_at / id), rendered by renderMark
 *                                 after a format check (a timestamp literal or a whole number, nothing else)
 *   {{catchup_mark}}              where the next delta starts: the mark the last catch-up round read (the copy mark
 *                                 before the first round); the locked swap and the post-sync start from it
 *   {{catchup_next}}              the mark the catch-up round in progress read before applying its delta
 *   {{regrants}}                  a whole batch entry: the re-grants (and owner) read from the old table's ACL in step
 *                                 read-grants, rendered with quoteIdent by grants.ts; zero or more statements
 */
import { renderMark } from './sql.js';
import type { SqlMark } from './types.js';

export const MARK_PLACEHOLDERS = ['copy_mark', 'swap_mark', 'catchup_mark', 'catchup_next'] as const;
export type MarkName = (typeof MARK_PLACEHOLDERS)[number];

/** The batch entry the re-grants take the place of. */
export const REGRANTS = '{{regrants}}';

export interface RunValues {
  copy_mark?: SqlMark;
  swap_mark?: SqlMark;
  catchup_mark?: SqlMark;
  catchup_next?: SqlMark;
  /** the statements REGRANTS stands for */
  regrants?: readonly string[];
}

/** `{{name}}` as a placeholder mark (renderMark prints it so). */
export const placeholder = (name: MarkName): SqlMark => ({ placeholder: name });

const PLACEHOLDER = /\{\{([a-z_][a-z0-9_]*)\}\}/g;

/** The statement with every mark placeholder replaced; an unknown placeholder or a missing value is an error. */
export function fillStatement(sql: string, values: RunValues): string {
  return sql.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(MARK_PLACEHOLDERS as readonly string[]).includes(name)) throw new Error(`${whole} cannot be filled inside a statement`);
    const v = values[name as MarkName];
    if (v === undefined || 'placeholder' in v) throw new Error(`the ${name.replace('_', ' ')} was not recorded; retry the step that reads it`);
    return renderMark(v);
  });
}

/** A batch with its placeholders filled: REGRANTS becomes the re-grant statements, marks are filled in the others. */
export function fillBatch(sqls: readonly string[], values: RunValues): string[] {
  return sqls.flatMap((s) => {
    if (s !== REGRANTS) return [fillStatement(s, values)];
    if (values.regrants === undefined) throw new Error('the grants of the old table were not recorded; retry step read-grants');
    return [...values.regrants];
  });
}
