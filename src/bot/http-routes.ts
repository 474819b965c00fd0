/**
 * The operational HTTP routes every process serves on PORT: `GET /healthz` (live: the process answers) and `GET /readyz`
 * (ready: Redis and the warehouse answer, src/bot/readiness.ts), plus the queue dashboard on the bot when configured.
 * The bot role mounts them on Bolt's HTTP receiver (src/slack/app.ts `routes`); a worker, or a bot in Socket Mode, has
 * no Slack HTTP server, so it serves them from a small server of its own (`startOpsServer`), so container health checks
 * and load balancers see every role the same way.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import type { Readiness } from './readiness.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function healthzRoute(): CustomRoute {
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    },
  };
}

/** 200 with the checks when ready, 503 with the checks (each failure says what) when not */
export function readyzRoute(check: () => Promise<Readiness>): CustomRoute {
  return {
    path: '/readyz',
    method: ['GET'],
    handler: (_req, res) => {
      check().then(
        (r) => {
          const body = JSON.stringify(r);
          res.writeHead(r.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(body);
        },
        (e: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
        },
      );
    },
  };
}

/** does `path` match a route path: exact, or a prefix route written `/base{/*rest}` (path-to-regexp, as Bolt matches) */
export function routeMatches(routePath: string, path: string): boolean {
  const wild = /^(.*)\{\/\*[A-Za-z_]+\}$/.exec(routePath);
  if (wild) return path === wild[1] || path.startsWith(`${wild[1]}/`);
  return path === routePath;
}

/** A plain HTTP server for `routes` on `port` (0 = any free); 404 otherwise. */
export async function startOpsServer(port: number, routes: CustomRoute[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const route = routes.find((r) => routeMatches(r.path, path) && (Array.isArray(r.method) ? r.method : [r.method]).map((m) => m.toUpperCase()).includes(method));
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    (route.handler as RouteHandler)(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
