import type { Cursor } from './cursor.js';
import type { CommandDefinition } from './definition.js';
import { readTable } from './names.js';
import { type ParseContext, WEEKDAYS } from './types.js';

const LIST = 'hygiene';
const RUN = 'hygiene run <table>';
const SCHEDULE = 'hygiene schedule [<day> <HH:MM> | off]';

/** mon … sun (and full names) → 0 (Sunday) … 6, as cron counts them */
function weekday(word: string): number | undefined {
  const w = word.toLowerCase();
  const i = WEEKDAYS.findIndex((d) => d === w || d.slice(0, 3) === w);
  return i < 0 ? undefined : i;
}

export const hygiene: CommandDefinition = {
  name: 'hygiene',
  usage: [LIST, RUN, SCHEDULE],
  summary: 'list the tables that need VACUUM (unsorted, rows marked deleted), VACUUM REINDEX (interleaved skew) or ANALYZE (stale statistics)',
  summaries: [
    'list the tables that need VACUUM (unsorted, rows marked deleted), VACUUM REINDEX (interleaved skew) or ANALYZE (stale statistics), each with a button to queue it',
    "queue the table's maintenance as a job (what the listing's button does): VACUUM as one statement outside any transaction, then ANALYZE, under the table lock",
    'show the weekly hygiene timeline, set it (UTC), or remove it: each run queues the maintenance the listing recommends',
  ],
  details: [
    'Thresholds: HYGIENE_UNSORTED_PCT (default 10), HYGIENE_STATS_OFF_PCT (10), HYGIENE_DELETED_PCT (10), HYGIENE_REINDEX_SKEW (5).',
    'Redshift runs one VACUUM at a time per cluster: a maintenance job waits while another VACUUM runs.',
  ],
  examples: ['hygiene', 'hygiene run core_action', 'hygiene schedule', 'hygiene schedule sun 03:00', 'hygiene schedule off'],
  parse(cur: Cursor, ctx: ParseContext) {
    cur.usage = this.usage.join('  |  ');
    if (cur.atEnd()) return { kind: 'hygiene' };
    const { word } = cur.expectWord(['run', 'schedule'], 'run or schedule after hygiene (or nothing, to list)');
    if (word === 'run') {
      cur.usage = RUN;
      const { ref } = readTable(cur, ctx, 'hygiene run');
      cur.expectEnd('hygiene run takes one table');
      return { kind: 'hygiene-run', table: ref };
    }
    cur.usage = SCHEDULE;
    if (cur.atEnd()) return { kind: 'hygiene-schedule', action: 'show' };
    if (cur.accept('off')) {
      cur.expectEnd('hygiene schedule off takes nothing more');
      return { kind: 'hygiene-schedule', action: 'off' };
    }
    const dayTok = cur.next()!;
    const day = dayTok.kind === 'word' ? weekday(dayTok.value) : undefined;
    if (day === undefined) cur.fail(dayTok, 'expected a day of the week (mon, tue, wed, thu, fri, sat, sun) or off');
    const timeTok = cur.next();
    if (timeTok === undefined) cur.fail(undefined, 'expected a time of day after the day, as HH:MM in UTC (e.g. 03:00)');
    const m = timeTok.kind === 'word' ? /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(timeTok.value) : null;
    if (!m) cur.fail(timeTok, 'expected a time of day as HH:MM in UTC (00:00 … 23:59)');
    cur.expectEnd('hygiene schedule takes a day and a time');
    const time = `${m[1]!.padStart(2, '0')}:${m[2]!}`;
    return { kind: 'hygiene-schedule', action: 'set', weekday: day, time };
  },
};
