/**
 * Child processes in tests: spawn with a clean environment, read pino JSON lines from stdout, wait for a line, for exit,
 * for a port to close, for a pid to be gone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';

export const BASE_ENV = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
});

export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** the first JSON log line with this msg (pino `msg`), waiting up to timeoutMs */
  waitForLog(msg: string | RegExp, timeoutMs: number): Promise<Record<string, unknown>>;
  /** the first stdout text matching re */
  waitForText(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the child's whole process group (cleanup) */
  kill(): void;
}

export function startChild(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }): Child {
  // its own process group: kill() ends npm and everything under it (tsx, node), never leaving an orphan listening
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitWaiters = new Set<() => void>();
  proc.on('exit', (code, signal) => {
    exit = { code, signal };
    for (const w of exitWaiters) w();
    for (const l of listeners) l();
  });
  const waitFor = <T>(test: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const r = test();
        if (r !== undefined) {
          cleanup();
          resolve(r);
        } else if (exit) {
          cleanup();
          reject(new Error(`${what}: the process exited (${exit.code ?? exit.signal}) first\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
        }
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`${what}: not seen within ${timeoutMs} ms\nstdout:\n${out.slice(-3000)}\nstderr:\n${err.slice(-3000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(t);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    waitForLog: (msg, timeoutMs) =>
      waitFor(
        () => {
          for (const line of out.split('\n')) {
            if (!line.startsWith('{')) continue;
            try {
              const j = JSON.parse(line) as Record<string, unknown>;
              const m = String(j.msg ?? '');
              if (typeof msg === 'string' ? m === msg : msg.test(m)) return j;
            } catch {
              /* a partial line */
            }
          }
          return undefined;
        },
        timeoutMs,
        `log line "${String(msg)}"`,
      ),
    waitForText: (re, timeoutMs) => waitFor(() => out.match(re) ?? undefined, timeoutMs, `output ${String(re)}`),
    exited: (timeoutMs) =>
      new Promise((resolve, reject) => {
        if (exit) return resolve(exit);
        const t = setTimeout(() => reject(new Error(`the process did not exit within ${timeoutMs} ms`)), timeoutMs);
        exitWaiters.add(() => {
          clearTimeout(t);
          resolve(exit!);
        });
      }),
    kill: () => {
      if (proc.pid === undefined) return;
      try {
        process.kill(-proc.pid, 'SIGKILL'); // the whole group, even after npm itself has exited
      } catch {
        /* already gone */
      }
    },
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** poll until fn() is true or timeoutMs passes; resolves to the last value */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
