/**
 * The container set-up: the Dockerfile runs the compiled build (no tsx, no TypeScript at run time) as a non-root user
 * with a HEALTHCHECK, and `docker-compose config` (Debian's docker-compose; .ci/run installs it) accepts
 * docker-compose.yml with `.env.example` copied to `.env`, with and without the `sandbox` profile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** `docker-compose` (v1, apt) or `docker compose` (v2 plugin), whichever this machine has */
function composeCommand(): string[] {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  throw new Error('neither `docker-compose` nor `docker compose` is installed: `apt-get install -y docker-compose` (.ci/run installs it when missing)');
}

function stages(dockerfile: string): { from: string; lines: string[] }[] {
  const out: { from: string; lines: string[] }[] = [];
  // join continuation lines, drop comments
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) out.push({ from: l, lines: [] });
    else out.at(-1)?.lines.push(l);
  }
  return out;
}

describe('Dockerfile', () => {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const all = stages(text);
  const final = all.at(-1)!;

  it('builds in one stage and runs the compiled JavaScript in another, on Node 22', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all.every((s) => /^FROM node:22\b/.test(s.from))).toBe(true);
    expect(all.some((s) => s.lines.some((l) => /^RUN npm run build$/.test(l)))).toBe(true);
    const entry = final.lines.find((l) => l.startsWith('ENTRYPOINT'));
    expect(entry).toBeDefined();
    const argv = JSON.parse(entry!.replace(/^ENTRYPOINT\s+/, '')) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe('dist/main.js');
    expect(final.lines.some((l) => /COPY --from=\S+ \/app\/dist \.\/dist/.test(l))).toBe(true);
  });

  it('has no tsx or TypeScript sources at run time', () => {
    expect(final.lines.join('\n')).not.toMatch(/tsx|src\b|\.ts\b/);
    // production dependencies only in the final image, and tsx is a dev dependency
    expect(all.some((s) => s.lines.some((l) => /npm ci --omit=dev/.test(l)))).toBe(true);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.devDependencies)).toContain('tsx');
  });

  it('the production dependencies cover every package src/ loads at run time (the image has no others)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    const used = new Map<string, string>();
    for (const f of files(path.join(ROOT, 'src'))) {
      const text = readFileSync(f, 'utf8');
      // value imports (not `import type`), re-exports and dynamic import() of bare specifiers
      const specs = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?['"]([^'"./][^'"]*)['"]/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\bimport\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specs) {
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        used.set(name, path.relative(ROOT, f));
      }
    }
    expect(used.size).toBeGreaterThan(8);
    const missing = [...used].filter(([n]) => !(n in pkg.dependencies)).map(([n, f]) => `${n} (${f})`);
    expect(missing, 'add to "dependencies" (npm ci --omit=dev leaves out everything else)').toEqual([]);
  });

  it('runs as a non-root user with a HEALTHCHECK that uses node against /healthz', () => {
    const user = final.lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/USER\s+(root|0)\b/);
    const hc = final.lines.find((l) => l.startsWith('HEALTHCHECK'));
    expect(hc).toMatch(/CMD \["node", "-e", ".*\/healthz/);
  });
});

describe('docker-compose.yml', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rso-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(path.join(ROOT, 'docker-compose.yml'), path.join(dir, 'docker-compose.yml'));
  copyFileSync(path.join(ROOT, 'Dockerfile'), path.join(dir, 'Dockerfile'));
  copyFileSync(path.join(ROOT, '.env.example'), path.join(dir, '.env'));

  const config = (profile?: string): { services: Record<string, { environment?: Record<string, string | null>; command?: string[]; entrypoint?: string[]; profiles?: string[] }> } => {
    const cmd = composeCommand();
    const args = [...cmd.slice(1), ...(profile ? ['--profile', profile] : []), 'config'];
    const out = execFileSync(cmd[0]!, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const parsed = YAML.parse(out) as ReturnType<typeof config>;
    // v1 prints every service with its `profiles`; v2 leaves out inactive ones: keep what `up` would start
    for (const [name, svc] of Object.entries(parsed.services)) {
      if (svc.profiles !== undefined && svc.profiles.length > 0 && (profile === undefined || !svc.profiles.includes(profile))) delete parsed.services[name];
    }
    return parsed;
  };

  it('validates with .env.example as .env: redis, bot and workers by default', () => {
    const c = config();
    expect(Object.keys(c.services).sort()).toEqual(['bot', 'redis', 'worker']);
    expect(c.services.bot!.command).toEqual(['--role', 'bot']);
    expect(c.services.worker!.command).toEqual(['--role', 'worker']);
    for (const s of ['bot', 'worker']) {
      const env = c.services[s]!.environment ?? {};
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.SCHEMAS_DIR).toBe('/app/schemas');
      // every uncommented line of .env.example reaches the containers
      const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
      for (const m of example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)) expect(env[m[1]!], m[1]).toBe(m[2]);
    }
  });

  it('the sandbox profile adds PostgreSQL and the seeded sandbox, which .env.example points the bot at', () => {
    const c = config('sandbox');
    expect(Object.keys(c.services).sort()).toEqual(['bot', 'postgres', 'redis', 'sandbox', 'worker']);
    const sb = c.services.sandbox!;
    expect(sb.entrypoint).toEqual(['node', '--enable-source-maps', 'dist/sandbox/main.js']);
    expect(sb.command).toEqual(['--seed']);
    expect(sb.environment?.HOST).toBe('0.0.0.0');
    const port = sb.environment?.PORT;
    expect(c.services.bot!.environment?.AWS_ENDPOINT_URL).toBe(`http://sandbox:${port}`);
    expect(c.services.bot!.environment?.SLACK_API_URL).toBe(`http://sandbox:${port}/_sandbox/slack/api/`);
  });
});
