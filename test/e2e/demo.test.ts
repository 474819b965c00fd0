/**
 * `npm run demo` as a user sees it (issue 9 item 4): one line naming its backends; an approval hint that names only
 * what can be typed; "started" once per job; the interactive prompt drawn again below the job's output; the temporary
 * schemas/ copy gone after exit. Runs the demo's `main` on a test PostgreSQL database (DATABASE_URL), Redis and the
 * sandbox, with --static (no replication loops).
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCacheKey } from '../../src/console/demo-cache.js';
import { main } from '../../src/console/demo.js';
import { defaultSchemasDir } from '../../src/schema/registry.js';
import { type TestDatabase, createTestDatabase } from '../support/sandbox.js';

let db: TestDatabase;
const savedUrl = process.env.DATABASE_URL;

beforeAll(async () => {
  db = await createTestDatabase('demo');
  process.env.DATABASE_URL = db.url;
}, 60_000);
afterAll(async () => {
  if (savedUrl === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = savedUrl;
  await db?.drop();
});

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  return { out, text: () => text };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('npm run demo', () => {
  it('--exec: names its backends, a hint you can act on, "started" once, and leaves no schemas/ copy behind', async () => {
    const c = capture();
    let copy: string | undefined;
    const code = await main(['--static', '--rows', '10', '--user', 'U0DEMO', '--exec', '/redshift schema apply core_user'], {
      out: c.out,
      onSchemasCopy: (d) => (copy = d),
    });
    const text = c.text();
    expect(code, text).toBe(1); // the job waits for an approval nobody gave
    expect(text).toMatch(/^Backends: warehouse = sandbox Redshift Data API on PostgreSQL \(DATABASE_URL\) at http:\/\/127\.0\.0\.1:\d+; DMS \+ CloudWatch Logs = sandbox; replication writes .+; queue = Redis redis:\/\/127\.0\.0\.1:6379; compare source = none/m);
    expect(text.match(/^Backends: /gm)).toHaveLength(1);
    expect(text).toMatch(/needs approval: .* — to decide: run the command again with --approve or --reject/);
    expect(text).not.toMatch(/answer y\/n|`reject \d+ /);
    expect(copy).toBeDefined();
    expect(existsSync(copy!)).toBe(false);
  }, 120_000);

  it('--exec --approve: the job is announced once, the decision once', async () => {
    const c = capture();
    const code = await main(['--static', '--rows', '10', '--user', 'U0DEMO', '--exec', '/redshift schema apply core_user', '--approve'], { out: c.out });
    const text = c.text();
    expect(code, text).toBe(0);
    expect(text.match(/\[job \d+\] (started|resumed)/g), text).toHaveLength(1);
    expect(text.match(/approved by <@U0DEMO>/g), text).toHaveLength(1);
    expect(text).toMatch(/to decide: answered by --approve/);
  }, 120_000);

  it('interactive: the prompt comes back below the job output, and y answers the approval', async () => {
    const c = capture();
    const input = new PassThrough();
    const run = main(['--static', '--rows', '10', '--user', 'U0DEMO'], { out: c.out, input });
    const until = async (what: string, fn: () => boolean) => {
      const deadline = Date.now() + 90_000;
      while (!fn()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${c.text()}`);
        await sleep(50);
      }
    };
    await until('the first prompt', () => c.text().includes('redshift> '));
    input.write('/redshift schema apply core_user\n');
    await until('the approval question', () => /approve job \d+ \(.*\)\? \[y\/n\] $/.test(c.text()));
    expect(c.text()).toMatch(/to decide: answer y or n at the prompt/);
    input.write('y\n');
    await until('the job to finish', () => /finished: succeeded/.test(c.text()));
    // the prompt is drawn again after the job's last line
    await until('the prompt after the output', () => /finished: succeeded[^\n]*\n(.|\n)*redshift> $/.test(c.text()));
    input.end();
    expect(await run).toBe(0);
  }, 120_000);

  it('embedded PGlite: the first start caches the prepared database, the next loads it (no tables created again)', async () => {
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'rso-demo-cache-test-'));
    const saved = { db: process.env.DATABASE_URL, cache: process.env.RSO_CACHE_DIR };
    delete process.env.DATABASE_URL;
    process.env.RSO_CACHE_DIR = cacheDir;
    try {
      const args = ['--static', '--rows', '7', '--user', 'U0DEMO', '--exec', '/redshift status'];
      const cold = capture();
      expect(await main(args, { out: cold.out }), cold.text()).toBe(0);
      expect(cold.text()).toMatch(/embedded PGlite \(first start: the database is built, then cached\)/);
      expect((await readdir(cacheDir)).filter((f) => f.endsWith('.tar'))).toHaveLength(1);
      const warm = capture();
      expect(await main(args, { out: warm.out }), warm.text()).toBe(0);
      expect(warm.text()).toMatch(/embedded PGlite \(prepared database from the cache\)/);
      expect(warm.text()).toMatch(/26 tables in ak_sumofus, 182 rows/);
      // status reads the loaded rows: core_action's newest updated_at (seeded a minute before the first start) is measured
      expect(warm.text()).toMatch(/^core_action\s+cdc:flydata\s.*\s\d+ s old/m);
      expect(warm.text()).not.toMatch(/^core_action\s.*not measured/m);
    } finally {
      if (saved.db === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.db;
      if (saved.cache === undefined) delete process.env.RSO_CACHE_DIR;
      else process.env.RSO_CACHE_DIR = saved.cache;
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 240_000);

  it('the cache key changes with schemas/ and with the rows per table', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rso-demo-key-'));
    try {
      await cp(defaultSchemasDir(), dir, { recursive: true });
      const k = await demoCacheKey(dir, 200);
      expect(await demoCacheKey(dir, 200)).toBe(k);
      expect(await demoCacheKey(dir, 201)).not.toBe(k);
      await writeFile(path.join(dir, 'ak_sumofus', 'core_action.yml'), '# changed\n', { flag: 'a' });
      expect(await demoCacheKey(dir, 200)).not.toBe(k);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
