/**
 * `npm start` with a broken environment: every configuration problem is reported in one go (the user fixes them all
 * before the next start, instead of one per start), each naming its variable, and nothing is connected before that.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stderr, stdout });
    });
  });
}

describe('start-up configuration', () => {
  it('reports every problem at once, one line per variable, and exits 2 without connecting anywhere', async () => {
    const r = await runMain({
      AWS_REGION: 'west',
      SLACK_SIGNING_SECRET: 'hunter2-signing',
      SLACK_BOT_TOKEN: 'not-a-bot-token',
      OPERATORS: '@alice',
      ALLOW_SELF_APPROVAL: 'maybe',
      WORKER_CONCURRENCY: 'zero',
      LOG_LEVEL: 'loud',
      REDIS_URL: 'http://127.0.0.1:1', // unreachable and the wrong scheme: must be reported, not tried
    });
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => /^\s+- /.test(l));
    const named = lines.map((l) => l.replace(/^\s+- /, '').split(/[ :=(]/)[0]);
    for (const v of ['AWS_REGION', 'REDSHIFT_CLUSTER_ID', 'SLACK_BOT_TOKEN', 'OPERATORS', 'ALLOW_SELF_APPROVAL', 'WORKER_CONCURRENCY', 'LOG_LEVEL', 'REDIS_URL']) {
      expect(named, `${v} in:\n${r.stderr}`).toContain(v);
    }
    expect(r.stderr).toMatch(/8 configuration problems/);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr).not.toMatch(/Cannot reach Redis/);
  });
});
