/**
 * `npm run sandbox`: the loopback AWS sandbox as a process.
 *
 *   PORT          port to listen on (default: the first free one from 4566)
 *   HOST          default 127.0.0.1
 *   DATABASE_URL  postgres://… for a PostgreSQL database the sandbox owns, or pglite:<dir>; default: in-memory PGlite
 *   PAGE_SIZE     rows per GetStatementResult page (default 1000)
 *   LOG_LEVEL     pino level (default info)
 *
 * Point the bot (or any SDK client) at the printed endpoint: AWS_ENDPOINT_URL=<endpoint>, any region and credentials.
 */
import { createServer } from 'node:net';
import pino from 'pino';
import { redactUrl } from './db.js';
import { startSandbox } from './server.js';

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function choosePort(host: string): Promise<number> {
  const env = process.env.PORT;
  if (env !== undefined && env !== '') {
    const p = Number(env);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`PORT must be a port number 0–65535, got "${env}"`);
    return p;
  }
  for (let p = 4566; p < 4600; p++) if (await portFree(p, host)) return p;
  return 0;
}

async function main(): Promise<void> {
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const host = process.env.HOST ?? '127.0.0.1';
  const pageSize = process.env.PAGE_SIZE ? Number(process.env.PAGE_SIZE) : undefined;
  if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) throw new Error(`PAGE_SIZE must be a whole number ≥ 1, got "${process.env.PAGE_SIZE}"`);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const sandbox = await startSandbox({
    port: await choosePort(host),
    host,
    logger: log,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(pageSize !== undefined ? { pageSize } : {}),
  });
  process.stdout.write(`Sandbox endpoint: ${sandbox.endpoint}\n`);
  process.stdout.write(`Backend: ${sandbox.backend}${databaseUrl ? ` (${redactUrl(databaseUrl)})` : ' (in memory; set DATABASE_URL to keep data)'}\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping the sandbox');
    sandbox.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`sandbox: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
