/**
 * findProblems on hand-made facts: what makes a DMS stop "ours", and that parts which could not be read are problems
 * of their own (never healthy, never alerting).
 */
import { describe, expect, it } from 'vitest';
import { findProblems } from '../../src/health/problems.js';
import type { HealthSnapshot } from '../../src/health/index.js';
import type { JobRecord } from '../../src/jobs/types.js';
import { loadRegistry } from '../../src/schema/registry.js';

const registry = await loadRegistry('schemas');
const ARN = 'arn:aws:dms:us-west-2:123456789012:task:ABC';
const NOW = Date.parse('2026-11-27T12:00:00Z');

function job(over: Partial<JobRecord>): JobRecord {
  return { id: '7', kind: 'modify', requester: 'U1', commandText: '', summary: 'modify core_usermailing', params: {}, state: 'running', cursor: 0, steps: [], handles: {}, approvals: [], origin: { kind: 'console' }, createdAt: NOW, updatedAt: NOW, ...over };
}

function snapshot(status: string, recent: JobRecord[], parts: { dmsOk?: boolean; queueOk?: boolean } = {}): HealthSnapshot {
  return {
    at: NOW,
    schema: 'ak_sumofus',
    ms: 1,
    catalog: { schema: 'ak_sumofus', stats: { ok: true, value: [] }, live: { ok: false, why: 'x' }, freshness: { ok: true, value: new Map() }, notMeasured: [] },
    dms: [
      {
        taskId: 'flydata-core-usermailing',
        tables: ['core_usermailing'],
        logGroup: 'g',
        task: parts.dmsOk === false ? { ok: false, why: 'ThrottlingException after 5 attempts' } : { ok: true, value: { arn: ARN, id: 'flydata-core-usermailing', status, stopReason: 'Stop Reason NORMAL' } },
        stats: [],
      },
    ],
    logs: [],
    source: { configured: false, lagSeconds: 300, tables: [] },
    queue: parts.queueOk === false ? { ok: false, why: 'redis down' } : { ok: true, value: { active: [], awaiting: [], locks: [], recent } },
  };
}

const keyOf = (s: HealthSnapshot) => findProblems(s, registry).map((p) => `${p.key}${p.alert ? '!' : ''}`);

describe('findProblems: DMS', () => {
  it('a stopped task nobody of ours stopped is an alerting error with the recover runbook', () => {
    const p = findProblems(snapshot('stopped', []), registry).find((x) => x.key === 'dms:flydata-core-usermailing:not-running');
    expect(p).toMatchObject({ severity: 'error', alert: true, runbook: { kind: 'recover', table: 'core_usermailing' } });
    expect(p?.detail).toEqual(['status stopped', 'StopReason: Stop Reason NORMAL']);
  });

  it('a task stopped by a running or parked job of ours is not a problem; once that job resumed it, or settled, it is', () => {
    for (const state of ['running', 'awaiting-approval', 'queued'] as const)
      expect(keyOf(snapshot('stopped', [job({ state, handles: { taskArn: ARN } })]))).not.toContain('dms:flydata-core-usermailing:not-running!');
    expect(keyOf(snapshot('stopped', [job({ state: 'running', handles: { taskArn: ARN, resumedAt: '1' } })]))).toContain('dms:flydata-core-usermailing:not-running!');
    expect(keyOf(snapshot('stopped', [job({ state: 'succeeded', handles: { taskArn: ARN } })]))).toContain('dms:flydata-core-usermailing:not-running!');
    expect(keyOf(snapshot('stopped', [job({ state: 'running', handles: { taskArn: `${ARN}-other` } })]))).toContain('dms:flydata-core-usermailing:not-running!');
  });

  it('a task our job stopped and then failed on alerts, pointing at the job', () => {
    const p = findProblems(snapshot('stopped', [job({ state: 'failed', error: 'copy failed', handles: { taskArn: ARN } })]), registry).find((x) => x.key.startsWith('dms:'));
    expect(p).toMatchObject({ alert: true, runbook: { kind: 'job', jobId: '7' } });
    expect(p?.title).toContain('stopped by job 7, which failed');
  });

  it('parts that could not be read are problems of their own, never alerts', () => {
    const ps = findProblems(snapshot('running', [], { dmsOk: false, queueOk: false }), registry);
    const unknown = ps.filter((p) => p.severity === 'unknown');
    expect(unknown.map((p) => p.key).sort()).toEqual(['health:catalog', 'health:dms:flydata-core-usermailing', 'health:queue']);
    expect(unknown.every((p) => !p.alert)).toBe(true);
    expect(unknown.find((p) => p.key === 'health:dms:flydata-core-usermailing')?.title).toContain('ThrottlingException after 5 attempts');
    // errors come before warnings, and both before unknown parts
    const order = ps.map((p) => p.severity);
    expect([...order].sort((a, b) => ['error', 'warning', 'unknown'].indexOf(a) - ['error', 'warning', 'unknown'].indexOf(b))).toEqual(order);
  });
});
