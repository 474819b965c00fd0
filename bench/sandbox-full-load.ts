/**
 * sandbox-full-load: how fast the sandbox's DMS full load copies a MariaDB source table into the PostgreSQL target, and
 * how fast its CDC side applies changes written to MariaDB afterwards.
 *
 * Creates a MariaDB database (SOURCE_ADMIN_URL, default mysql://root@127.0.0.1:3306; `rso_bench_fullload_<pid>_<hex>`)
 * and a PostgreSQL database (TEST_PG_ADMIN_URL), both dropped afterwards; puts BENCH_FULL_LOAD_ROWS (default 50000) rows
 * of core_usermailing in the source only, starts the task (start-replication) and measures the time from the start to
 * TableState `Table completed`, with FullLoadRows sampled as it moves; then writes 5000 changes to the source and
 * measures the time until all are applied. Prints rows/s and changes/s, and checks the target equals the source.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DmsApplyLoop, tableGenerator } from '../src/sandbox/apply-loop.js';
import { DMS_TARGET_PREFIX, DmsSandbox } from '../src/sandbox/dms.js';
import { MariaDbSourceDb } from '../src/sandbox/source-db.js';
import { MY_ADMIN, PG_ADMIN, pgAdmin } from './admin-db.js';
import type { Bench } from './run.js';


export const sandboxFullLoad: Bench = {
  name: 'sandbox-full-load',
  description: 'sandbox DMS full load from MariaDB → PostgreSQL (rows/s, FullLoadRows moving) and change apply rate after it',
  async run(print) {
    const rows = Number(process.env.BENCH_FULL_LOAD_ROWS ?? 50_000);
    const name = `rso_bench_fullload_${process.pid}_${randomBytes(3).toString('hex')}`;
    await pgAdmin(`CREATE DATABASE ${name}`);
    const pool = new pg.Pool({ connectionString: PG_ADMIN.replace(/\/[^/]*$/, `/${name}`), max: 4 });
    pool.on('error', () => {});
    const source = await MariaDbSourceDb.open({ url: `${MY_ADMIN}/${name}`, createDatabase: true });
    const dms = new DmsSandbox({ delays: { createMs: 10, startMs: 10, stopMs: 10, fullLoadMs: 10 } });
    let loop: DmsApplyLoop | undefined;
    try {
      await pool.query('CREATE SCHEMA ak_sumofus');
      await pool.query('CREATE TABLE ak_sumofus.core_usermailing (id bigint NOT NULL, mailing_id integer NOT NULL, user_id integer NOT NULL, subject_id integer, created_at timestamp NOT NULL)');
      const task = dms.seedTask({ identifier: 'bench-full-load', status: 'ready', migrationType: 'full-load-and-cdc', tables: [{ schema: 'ak_sumofus', table: 'core_usermailing' }] });
      loop = new DmsApplyLoop({
        db: pool,
        dms,
        task: task.arn,
        schema: 'ak_sumofus',
        table: 'core_usermailing',
        generator: tableGenerator([
          { name: 'id', type: 'bigint', notNull: true },
          { name: 'mailing_id', type: 'integer', notNull: true },
          { name: 'user_id', type: 'integer', notNull: true },
          { name: 'subject_id', type: 'integer' },
          { name: 'created_at', type: 'datetime', notNull: true },
        ]),
        source,
        rate: 0,
        tickMs: 5,
        loadChunkRows: 5000,
      });
      let t = performance.now();
      await loop.seedSource(rows);
      print(`source: ${rows.toLocaleString('en-US')} rows written to MariaDB in ${((performance.now() - t) / 1000).toFixed(1)} s`);

      loop.start();
      t = performance.now();
      const started = await dms.handle(`${DMS_TARGET_PREFIX}.StartReplicationTask`, { ReplicationTaskArn: task.arn, StartReplicationTaskType: 'start-replication' });
      if (started.status !== 200) throw new Error(`StartReplicationTask: ${JSON.stringify(started.body)}`);
      // the seeded task's table reads `Table completed` until the start queues its load (starting → running)
      while (dms.getTask(task.arn).status !== 'running') await new Promise((r) => setTimeout(r, 2));
      const samples: number[] = [];
      for (;;) {
        const s = dms.getTask(task.arn).tables[0]!;
        if (s.state === 'Full load' && samples.at(-1) !== s.fullLoadRows) samples.push(s.fullLoadRows);
        if (s.state === 'Table completed') break;
        if (performance.now() - t > 600_000) throw new Error(`full load not done in 10 min (state ${s.state}, ${s.fullLoadRows} rows)`);
        await new Promise((r) => setTimeout(r, 5));
      }
      const loadS = (performance.now() - t) / 1000;
      const done = dms.getTask(task.arn).tables[0]!;
      print(`full load: ${done.fullLoadRows.toLocaleString('en-US')} rows in ${loadS.toFixed(2)} s = ${Math.round(done.fullLoadRows / loadS).toLocaleString('en-US')} rows/s; FullLoadRows seen moving: ${samples.slice(0, 6).join(', ')}${samples.length > 6 ? ', …' : ''}`);

      loop.generate(5000);
      t = performance.now();
      await loop.idle(60_000);
      const applyS = (performance.now() - t) / 1000;
      print(`after the load: 5,000 changes written to MariaDB and applied in ${applyS.toFixed(2)} s = ${Math.round(5000 / applyS).toLocaleString('en-US')} changes/s`);
      const v = await loop.verify();
      print(`verify: ${v.summary}`);
      if (!v.ok) throw new Error(v.summary);
    } finally {
      await loop?.stop();
      dms.close();
      await source.close({ dropDatabase: true });
      await pool.end();
      await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  },
};
