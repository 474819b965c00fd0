/**
 * deploy/iam-policy.json is the least privilege the bot needs: every AWS call the code sends (each `new XCommand(` in
 * src/, outside the sandbox) is allowed, and nothing the code never calls. The Data API reads the database credentials
 * from Secrets Manager on the caller's behalf when REDSHIFT_SECRET_ARN is set, so `secretsmanager:GetSecretValue` on
 * that one secret belongs to the policy too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-redshift-data': 'redshift-data',
  '@aws-sdk/client-database-migration-service': 'dms',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
};

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return p.endsWith(`${path.sep}sandbox`) ? [] : files(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** `service:Operation` for every SDK command the code constructs, with the file it is in */
function actionsTheCodeCalls(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of files(path.join(ROOT, 'src'))) {
    const text = readFileSync(f, 'utf8');
    const importedFrom = new Map<string, string>();
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z-]+)'/g)) {
      for (const name of m[1]!.split(',').map((s) => s.replace(/^\s*type\s+/, '').trim().split(/\s+as\s+/)[0]!)) importedFrom.set(name, m[2]!);
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z]+)Command\(/g)) {
      const pkg = importedFrom.get(`${m[1]}Command`);
      if (pkg === undefined) throw new Error(`${path.relative(ROOT, f)}: new ${m[1]}Command( is not imported from an @aws-sdk client`);
      const prefix = SERVICE_PREFIX[pkg];
      if (prefix === undefined) throw new Error(`${path.relative(ROOT, f)}: ${pkg} has no IAM service prefix in this test: add it`);
      out.set(`${prefix}:${m[1]}`, path.relative(ROOT, f));
    }
    // the Data API authenticates with a Secrets Manager secret on the caller's behalf
    if (/SecretArn:\s*t\.secretArn/.test(text)) out.set('secretsmanager:GetSecretValue', path.relative(ROOT, f));
  }
  return out;
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v]);

describe('deploy/iam-policy.json', () => {
  const policy = JSON.parse(readFileSync(path.join(ROOT, 'deploy/iam-policy.json'), 'utf8')) as { Version: string; Statement: Statement[] };
  const calls = actionsTheCodeCalls();
  const allowed = policy.Statement.flatMap((s) => list(s.Action));

  it('finds the calls (guards the scan itself)', () => {
    expect([...calls.keys()]).toEqual(expect.arrayContaining(['redshift-data:ExecuteStatement', 'dms:StopReplicationTask', 'logs:FilterLogEvents', 'secretsmanager:GetSecretValue']));
  });

  it('allows every call the code makes', () => {
    const missing = [...calls].filter(([a]) => !allowed.includes(a)).map(([a, f]) => `${a} (${f})`);
    expect(missing).toEqual([]);
  });

  it('allows nothing the code never calls, and no wildcard actions', () => {
    expect(allowed.filter((a) => !calls.has(a))).toEqual([]);
    expect(allowed.filter((a) => a.includes('*'))).toEqual([]);
    expect(allowed.filter((a, i) => allowed.indexOf(a) !== i)).toEqual([]);
  });

  it('is a valid Allow-only policy; "*" resources only where IAM offers no narrower one, scoped by condition where it can be', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const s of policy.Statement) {
      expect(s.Effect, s.Sid).toBe('Allow');
      if (!list(s.Resource).includes('*')) continue;
      // DMS's Describe* list calls take no resource ARN; Describe/Get/Cancel Statement are scoped to the caller's own statements
      const acts = list(s.Action);
      const ownStatements = s.Condition?.StringEquals?.['redshift-data:statement-owner-iam-userid'] === '${aws:userid}';
      const dmsLists = ['dms:DescribeReplicationTasks', 'dms:DescribeEndpoints', 'dms:DescribeConnections', 'dms:DescribeReplicationInstances'];
      expect(acts.every((a) => dmsLists.includes(a)) || (ownStatements && acts.every((a) => a.startsWith('redshift-data:'))), s.Sid).toBe(true);
    }
    const secret = policy.Statement.find((s) => list(s.Action).includes('secretsmanager:GetSecretValue'))!;
    expect(list(secret.Resource)).toHaveLength(1); // one secret
    expect(list(secret.Resource)[0]).toMatch(/^arn:aws:secretsmanager:[^:]+:[^:]+:secret:[^*]+$/);
  });
});
