/**
 * Where a process keeps the warehouse-as-code it may rewrite. Against the sandbox (a trial) the bot must never rewrite
 * the repository's own `schemas/`: unless SCHEMAS_DIR names a directory explicitly, it works on a temporary copy,
 * removed when the process stops. Against AWS, `schemas/` (or SCHEMAS_DIR) is used as is.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Does `endpoint` answer like the loopback sandbox (`GET /_sandbox/health` → `{ ok: true, services: [...] }`)? */
export async function isSandboxEndpoint(endpoint: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const r = await fetch(new URL('/_sandbox/health', endpoint), { signal: AbortSignal.timeout(timeoutMs) });
    if (!r.ok) return false;
    const body: unknown = await r.json();
    return typeof body === 'object' && body !== null && 'ok' in body && body.ok === true && 'services' in body && Array.isArray(body.services);
  } catch {
    return false; // not reachable, not JSON, not the sandbox: treat as AWS
  }
}

export interface SchemasDir {
  dir: string;
  /** a temporary copy (removed by `remove()`), or the directory itself */
  copied: boolean;
  remove(): Promise<void>;
}

/**
 * The directory the process should load and rewrite: `configured` itself, or a temporary copy of it when the warehouse
 * is the sandbox and SCHEMAS_DIR was not set.
 */
export async function schemasForProcess(opts: { configured: string; explicitlySet: boolean; endpoint?: string }): Promise<SchemasDir> {
  const as = (dir: string): SchemasDir => ({ dir, copied: false, remove: async () => undefined });
  if (opts.explicitlySet || opts.endpoint === undefined || !(await isSandboxEndpoint(opts.endpoint))) return as(opts.configured);
  const dir = await mkdtemp(path.join(tmpdir(), 'rso-schemas-'));
  await cp(opts.configured, dir, { recursive: true });
  return { dir, copied: true, remove: () => rm(dir, { recursive: true, force: true }) };
}
