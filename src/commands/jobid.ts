/** Job ids as commands take them: `42`, `#42`, `modify-core_action-1a2b` — letters, digits, _ . - (at most 100). */
import { type Cursor, clip, show } from './cursor.js';
import { checkNameChars } from './names.js';

export function readJobId(cur: Cursor, after: string): string {
  const t = cur.peek();
  if (t === undefined) cur.fail(undefined, `expected a job id after ${after} (jobs lists them)`);
  if (t.kind !== 'word') cur.fail(t, `expected a job id after ${after}, found ${show(t)}`);
  cur.next();
  const id = t.value.startsWith('#') ? t.value.slice(1) : t.value;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(id)) {
    const bad = [...id].find((ch) => !/[A-Za-z0-9_.-]/.test(ch));
    if (bad !== undefined && bad.codePointAt(0)! >= 0x80) checkNameChars(cur, t, 'job id', { dot: true });
    cur.fail(t, `${clip(t.value)} is not a job id: ids are letters, digits, _ . - (at most 100), as jobs lists them`);
  }
  return id;
}
