/**
 * The demo's prepared database: creating the 26 tables through the Data API and seeding them costs most of an embedded
 * (PGlite) demo's start, so the first start saves the prepared data directory (PGlite `dumpDataDir`) and later starts
 * load it (`loadDataDir`). The file is keyed by everything that shapes it — the schemas/ files, the seed (generator
 * version, rows per table), the sandbox catalog's SQL and PGlite's version — so a change to any of them builds anew.
 *
 * Where: $RSO_CACHE_DIR, else $XDG_CACHE_HOME/redshift-ops, else node_modules/.cache/redshift-ops in the repository.
 * A cache that cannot be read or written is skipped with a line saying why (the demo then builds as before).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import { CATALOG_VERSION, bootstrapSql } from '../sandbox/catalog.js';
import { SEED_VERSION } from './seed.js';

export function demoCacheDir(env: NodeJS.ProcessEnv, repoRoot: string): string {
  if (env.RSO_CACHE_DIR?.trim()) return env.RSO_CACHE_DIR.trim();
  if (env.XDG_CACHE_HOME?.trim()) return path.join(env.XDG_CACHE_HOME.trim(), 'redshift-ops');
  return path.join(repoRoot, 'node_modules', '.cache', 'redshift-ops');
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

function pgliteVersion(): string {
  try {
    const req = createRequire(import.meta.url);
    const pkg = z.object({ version: z.string() }).parse(req('@electric-sql/pglite/package.json'));
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/** The cache key: schemas/ (paths and contents), the seed, the sandbox catalog and the PGlite version. */
export async function demoCacheKey(schemasDir: string, rowsPerTable: number): Promise<string> {
  const h = createHash('sha256');
  for (const f of await filesUnder(schemasDir)) {
    h.update(path.relative(schemasDir, f)).update('\0').update(await readFile(f)).update('\0');
  }
  h.update(`seed ${SEED_VERSION} rows ${rowsPerTable}\0catalog ${CATALOG_VERSION}\0`).update(bootstrapSql()).update(`\0pglite ${pgliteVersion()}`);
  return h.digest('hex').slice(0, 24);
}

/** what the prepared database holds; `seededAt` is the time its rows were stamped back from (the source is seeded alike) */
const meta = z.object({ rows: z.number().int().nonnegative(), tables: z.number().int().nonnegative(), seededAt: z.number() });
export type DemoCacheMeta = z.output<typeof meta>;

export interface DemoCache {
  readonly file: string;
  load(): Promise<{ data: Blob; meta: DemoCacheMeta } | undefined>;
  save(data: Blob, m: DemoCacheMeta): Promise<void>;
}

export function demoCache(dir: string, key: string): DemoCache {
  const file = path.join(dir, `demo-pglite-${key}.tar`);
  const metaFile = `${file}.json`;
  return {
    file,
    async load() {
      try {
        const [bytes, m] = await Promise.all([readFile(file), readFile(metaFile, 'utf8')]);
        return { data: new Blob([bytes]), meta: meta.parse(JSON.parse(m)) };
      } catch {
        return undefined;
      }
    },
    async save(data, m) {
      await mkdir(dir, { recursive: true });
      // drop older prepared databases (other keys): one is enough
      for (const f of await readdir(dir)) if (f.startsWith('demo-pglite-') && !f.startsWith(`demo-pglite-${key}`)) await rm(path.join(dir, f), { force: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, Buffer.from(await data.arrayBuffer()));
      await writeFile(`${metaFile}.${process.pid}.tmp`, JSON.stringify(m));
      await rename(tmp, file);
      await rename(`${metaFile}.${process.pid}.tmp`, metaFile);
    },
  };
}
