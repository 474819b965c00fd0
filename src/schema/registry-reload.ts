/**
 * A registry that follows schemas/ on disk: jobs rewrite table files, and the bot must parse the next command against
 * the new definitions. Re-reads only when a file's mtime or the file list changed (a stat per file per command).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadRegistry, type Registry } from './registry.js';

async function fingerprint(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const schema of await readdir(dir, { withFileTypes: true })) {
    if (!schema.isDirectory()) continue;
    const sub = path.join(dir, schema.name);
    for (const f of await readdir(sub)) {
      if (!/\.ya?ml$/.test(f)) continue;
      const s = await stat(path.join(sub, f));
      parts.push(`${schema.name}/${f}:${s.mtimeMs}:${s.size}`);
    }
  }
  return parts.sort().join('|');
}

export function registryReloader(initial: Registry): () => Promise<Registry> {
  let current = initial;
  let seen: string | undefined;
  return async () => {
    const fp = await fingerprint(current.dir);
    if (seen === undefined) seen = fp;
    else if (fp !== seen) {
      current = await loadRegistry(current.dir);
      seen = fp;
    }
    return current;
  };
}
