/**
 * Bull Board, the BullMQ dashboard, at `/admin/queues` on the bot's HTTP port, behind HTTP basic auth
 * (BULL_BOARD_USER / BULL_BOARD_PASSWORD; off when they are unset). Read-only: a job's state belongs to the bot
 * (approvals, locks, the job record), so retrying or removing jobs from the dashboard would go around it — use
 * `/redshift retry|cancel|rollback`. Loaded with `import()` only when configured.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Queue } from 'bullmq';
import type { BullBoardAuth } from '../startup-config.js';

export const DASHBOARD_PATH = '/admin/queues';

/** an Express app called as a plain Node handler (what `app.use()` would do for it) */
type ExpressApp = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** whether the request carries `Authorization: Basic` with exactly these credentials (compared in constant time) */
export function basicAuthOk(header: string | undefined, auth: BullBoardAuth): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return false;
  // evaluate both comparisons, so the timing does not say which one failed
  const userOk = sameSecret(decoded.slice(0, i), auth.user);
  const passwordOk = sameSecret(decoded.slice(i + 1), auth.password);
  return userOk && passwordOk;
}

export async function queueDashboardRoute(opts: { queues: Queue[]; auth: BullBoardAuth; basePath?: string }): Promise<CustomRoute> {
  const basePath = opts.basePath ?? DASHBOARD_PATH;
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
  ]);
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: opts.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'redshift-ops' } },
  });
  // the adapter's app serves paths relative to basePath (its pages link to basePath itself)
  const board = serverAdapter.getRouter() as ExpressApp;
  return {
    path: `${basePath}{/*rest}`,
    method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'],
    handler: (req, res) => {
      if (!basicAuthOk(req.headers.authorization, opts.auth)) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="redshift-ops queues", charset="UTF-8"', 'content-type': 'text/plain' });
        res.end('authentication required (BULL_BOARD_USER / BULL_BOARD_PASSWORD)');
        return;
      }
      const url = req.url ?? '/';
      req.url = url.slice(basePath.length) || '/';
      if (!req.url.startsWith('/')) req.url = `/${req.url}`;
      board(req, res, (err?: unknown) => {
        if (res.headersSent) return res.end();
        res.writeHead(err === undefined ? 404 : 500, { 'content-type': 'text/plain' });
        res.end(err === undefined ? 'not found' : 'queue dashboard error');
      });
    },
  };
}
