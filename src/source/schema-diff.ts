/**
 * `schema diff --source`: where schemas/ and the MySQL source disagree — the most common cause of a broken replication
 * is a column added upstream. Columns are matched by name (folded to lower case); the source's types are mapped with
 * the CDC service's conventions (mysql-types.ts) before they are compared; defaults are not compared (the CDC service
 * rewrote them). The source schema comes from information_schema or a dump.
 */
import type { TableDef } from '../schema/model.js';
import { mapMysqlType } from './mysql-types.js';
import type { SourceSchema } from './port.js';

export interface SourceDiff {
  table: string;
  lines: string[];
}

const fold = (s: string): string => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export function diffWithSource(defs: readonly TableDef[], src: SourceSchema): SourceDiff[] {
  const out: SourceDiff[] = [];
  const byName = new Map(src.tables.map((t) => [fold(t), t]));
  for (const def of defs) {
    const key = `${def.schema}.${def.name}`;
    const raw = byName.get(def.name);
    if (raw === undefined) {
      out.push({ table: key, lines: [`not in the source database ${src.database}`] });
      continue;
    }
    const lines: string[] = [];
    const cols = src.columns.filter((c) => c.table === raw).sort((a, b) => a.position - b.position);
    const srcByName = new Map(cols.map((c) => [fold(c.name), c]));
    for (const c of cols) {
      const name = fold(c.name);
      const mine = def.columns.find((x) => x.name === name);
      const m = mapMysqlType(c.columnType, c.charset);
      const mapped = m.ok ? m.type : undefined;
      if (!mine) {
        lines.push(
          `column ${name} (${c.columnType}${mapped ? ` → ${mapped}` : ''}${c.nullable ? '' : ' NOT NULL'}) is in the source but not in schemas/: added upstream? ` +
            `Replication of ${def.name} needs it — ${mapped ? `/redshift modify ${def.name} add column ${name} ${mapped}` : `its type cannot be mapped: ${m.ok ? '' : m.error}`}`,
        );
        continue;
      }
      if (!m.ok) lines.push(`column ${name}: the source's type cannot be mapped (${m.error}); schemas/ says ${mine.type}`);
      else if (mapped !== mine.type) lines.push(`column ${name}: schemas/ says ${mine.type}, the source's ${c.columnType} maps to ${mapped}`);
      if (mine.notNull && c.nullable) lines.push(`column ${name}: schemas/ says NOT NULL, the source allows NULL (a NULL from the source would fail to load)`);
      else if (!mine.notNull && !c.nullable) lines.push(`column ${name}: the source says NOT NULL, schemas/ allows NULL`);
    }
    for (const c of def.columns) {
      if (!srcByName.has(c.name)) lines.push(`column ${c.name} (${c.type}) is in schemas/ but not in the source: dropped or renamed upstream?`);
    }
    out.push({ table: key, lines });
  }
  return out;
}
