import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, requireWarehouse } from '../../src/config.js';

const ARN = 'arn:aws:secretsmanager:us-west-2:123456789012:secret:redshift-admin-AbCdEf';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the defaults when nothing is set, and has no warehouse', () => {
    const c = loadConfig({});
    expect(c).toEqual({ aws: { region: 'us-west-2' }, schemas: { dir: 'schemas' } });
    expect(() => requireWarehouse(c)).toThrow(/REDSHIFT_CLUSTER_ID.*\n.*REDSHIFT_WORKGROUP[\s\S]*npm run sandbox/);
  });

  it('reads a provisioned cluster with a secret', () => {
    const c = loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_SECRET_ARN: ARN, REDSHIFT_DATABASE: 'ak', AWS_REGION: 'eu-west-1' });
    expect(c.warehouse).toEqual({ target: { kind: 'provisioned', clusterId: 'flydata-cluster', secretArn: ARN }, database: 'ak' });
    expect(c.aws.region).toBe('eu-west-1');
  });

  it('reads a provisioned cluster with a database user, database defaulting to dev', () => {
    const c = loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_DB_USER: 'awsuser' });
    expect(c.warehouse).toEqual({ target: { kind: 'provisioned', clusterId: 'flydata-cluster', dbUser: 'awsuser' }, database: 'dev' });
  });

  it('reads Serverless with and without a secret', () => {
    expect(loadConfig({ REDSHIFT_WORKGROUP: 'analytics' }).warehouse?.target).toEqual({ kind: 'serverless', workgroup: 'analytics' });
    expect(loadConfig({ REDSHIFT_WORKGROUP: 'analytics', REDSHIFT_SECRET_ARN: ARN }).warehouse?.target).toEqual({
      kind: 'serverless',
      workgroup: 'analytics',
      secretArn: ARN,
    });
  });

  it('honours AWS_ENDPOINT_URL and SCHEMAS_DIR; blank values count as unset', () => {
    const c = loadConfig({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4599', SCHEMAS_DIR: 'my/schemas', AWS_REGION: '  ' });
    expect(c.aws).toEqual({ region: 'us-west-2', endpoint: 'http://127.0.0.1:4599' });
    expect(c.schemas.dir).toBe('my/schemas');
  });

  it('a cluster without credentials names both variables that would fix it', () => {
    const p = problems({ REDSHIFT_CLUSTER_ID: 'flydata-cluster' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/REDSHIFT_CLUSTER_ID is set.*REDSHIFT_SECRET_ARN.*REDSHIFT_DB_USER/);
  });

  it('refuses ambiguous targets and stray credentials', () => {
    expect(problems({ REDSHIFT_CLUSTER_ID: 'c1', REDSHIFT_WORKGROUP: 'wg1', REDSHIFT_DB_USER: 'u' })[0]).toMatch(/both set/);
    expect(problems({ REDSHIFT_CLUSTER_ID: 'c1', REDSHIFT_SECRET_ARN: ARN, REDSHIFT_DB_USER: 'u' })[0]).toMatch(/REDSHIFT_SECRET_ARN and REDSHIFT_DB_USER/);
    expect(problems({ REDSHIFT_DB_USER: 'u' })[0]).toMatch(/also set REDSHIFT_CLUSTER_ID .*REDSHIFT_WORKGROUP/);
    expect(problems({ REDSHIFT_WORKGROUP: 'wg1', REDSHIFT_DB_USER: 'u' })[0]).toMatch(/unset REDSHIFT_DB_USER/);
  });

  it('reports every malformed variable at once, naming it, without echoing secret values', () => {
    const p = problems({ REDSHIFT_CLUSTER_ID: 'Flydata_Cluster', REDSHIFT_SECRET_ARN: 'hunter2', AWS_REGION: 'west', AWS_ENDPOINT_URL: 'ftp://x' });
    expect(p.map((l) => l.split(/[ :(]/)[0])).toEqual(['AWS_REGION', 'AWS_ENDPOINT_URL', 'REDSHIFT_CLUSTER_ID', 'REDSHIFT_SECRET_ARN']);
    expect(p.join('\n')).not.toContain('hunter2');
    expect(p.find((l) => l.startsWith('REDSHIFT_CLUSTER_ID'))).toContain('"Flydata_Cluster"');
  });

  it('describeConfig identifies the target without credentials', () => {
    const d = describeConfig(loadConfig({ REDSHIFT_CLUSTER_ID: 'flydata-cluster', REDSHIFT_SECRET_ARN: ARN }));
    expect(d).toMatchObject({ cluster: 'flydata-cluster', auth: 'secret', database: 'dev', region: 'us-west-2' });
    expect(JSON.stringify(d)).not.toContain('secretsmanager');
  });
});
