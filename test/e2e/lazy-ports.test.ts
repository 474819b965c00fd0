/**
 * The lazy DMS / CloudWatch Logs ports (src/replication/lazy.ts) that src/main.ts uses: nothing is loaded until the first
 * call, and then they answer exactly as the adapters do, through the real SDK clients against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { lazyDms, lazyLogs } from '../../src/replication/lazy.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ logs: { pageSize: 2, emptyPageEvery: 2 } });
}, 60_000);
afterAll(async () => {
  await sandbox?.close();
});

describe('lazy AWS ports', () => {
  it('load the SDK client on the first call and answer like the adapter', async () => {
    const env = { AWS_ENDPOINT_URL: sandbox.endpoint };
    const config = loadConfig(env);
    const dms = lazyDms(config, { env });
    const logs = lazyLogs(config, { env });
    try {
      expect(dms.loaded).toBe(false);
      expect(logs.loaded).toBe(false);
      const seeded = sandbox.dms.seedTask({ identifier: 'lazy-task', status: 'running', tables: [{ schema: 'ak_sumofus', table: 'core_usermailing' }] });
      const task = await dms.findTask('lazy-task');
      expect(dms.loaded).toBe(true);
      expect(task).toMatchObject({ arn: seeded.arn, id: 'lazy-task', status: 'running' });
      // an error is the adapter's own readable error, not a loader failure
      await expect(dms.findTask('no-such-task')).rejects.toThrow(/no-such-task/);

      sandbox.logs.createLogGroup('lazy-group');
      sandbox.logs.ensureStream('lazy-group', 'lazy-stream');
      const now = Date.now();
      sandbox.logs.append('lazy-group', 'lazy-stream', ['[TARGET_APPLY ]E: one', '[TARGET_APPLY ]W: two', '[SOURCE_CAPTURE ]I: three']);
      expect(logs.loaded).toBe(false);
      const lines = await logs.scan({ group: 'lazy-group', startMs: now - 60_000, endMs: now + 60_000 });
      expect(logs.loaded).toBe(true);
      expect(lines.map((l) => `${l.component} ${l.severity} ${l.text}`)).toEqual(['TARGET_APPLY E one', 'TARGET_APPLY W two', 'SOURCE_CAPTURE I three']);
    } finally {
      dms.close();
      logs.close();
    }
  });
});
