import { describe, expect, it } from 'vitest';
import { PolicyConfigError, createPolicy, policyConfigSchema, policyFromEnv } from '../../src/policy.js';

const job = { id: '42', requester: 'UREQ1' };

describe('policyFromEnv', () => {
  it('reads comma/space separated ids and the self-approval flag', () => {
    expect(policyFromEnv({ OPERATORS: 'UOPS1, UOPS2', APPROVERS: 'UAPP1 SGROUP1', ALLOW_SELF_APPROVAL: 'yes' })).toEqual({
      operators: ['UOPS1', 'UOPS2'],
      approvers: ['UAPP1', 'SGROUP1'],
      allowSelfApproval: true,
    });
  });

  it('defaults to nobody and no self-approval', () => {
    expect(policyFromEnv({})).toEqual({ operators: [], approvers: [], allowSelfApproval: false });
  });

  it('names the variable and the bad id', () => {
    const bad = 'APPROVERS ("@alice"): Slack ids look like U012ABCDEF (user), W… (enterprise user) or S… (user group)';
    expect(() => policyFromEnv({ APPROVERS: 'UAPP1,@alice' })).toThrow(new PolicyConfigError(`bad policy configuration: ${bad}`, [bad]));
    expect(() => policyFromEnv({ ALLOW_SELF_APPROVAL: 'maybe' })).toThrow('ALLOW_SELF_APPROVAL=maybe is not a boolean: use true or false');
  });

  it('reports a bad flag and bad ids together, one problem per variable', () => {
    try {
      policyFromEnv({ ALLOW_SELF_APPROVAL: 'maybe', OPERATORS: '@bob' });
      expect.unreachable('expected a PolicyConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyConfigError);
      expect((e as PolicyConfigError).problems.map((p) => p.split(/[ =(]/)[0])).toEqual(['ALLOW_SELF_APPROVAL', 'OPERATORS']);
    }
  });

  it('exports a schema that rejects unknown keys', () => {
    expect(policyConfigSchema.safeParse({ operators: [], admins: [] }).success).toBe(false);
  });
});

describe('Policy', () => {
  it('lets everyone run read-only commands and only operators run changing ones', async () => {
    const p = createPolicy({ operators: ['UOPS1'] });
    expect(await p.canRun('UXX1', false)).toEqual({ ok: true, reason: 'read-only commands are open to everyone' });
    expect(await p.canRun('UOPS1', true)).toEqual({ ok: true, reason: '<@UOPS1> is an operator' });
    expect(await p.canRun('UXX1', true)).toEqual({ ok: false, reason: '<@UXX1> is not an operator; ask one of <@UOPS1>' });
  });

  it('refuses changes and approvals when nobody is configured, saying what to set', async () => {
    const p = createPolicy({});
    expect((await p.canRun('UOPS1', true)).reason).toContain('set OPERATORS');
    expect(await p.canApprove('UAPP1', job)).toMatchObject({ ok: false, code: 'not-approver', reason: expect.stringContaining('set APPROVERS') });
  });

  it('refuses non-approvers and the requester unless self-approval is allowed', async () => {
    const p = createPolicy({ approvers: ['UAPP1', 'UREQ1'] });
    expect(await p.canApprove('UAPP1', job)).toEqual({ ok: true, reason: '<@UAPP1> is an approver' });
    expect(await p.canApprove('UOPS1', job)).toMatchObject({ ok: false, code: 'not-approver', reason: '<@UOPS1> is not an approver; approvers are <@UAPP1>, <@UREQ1>' });
    expect(await p.canApprove('UREQ1', job)).toMatchObject({ ok: false, code: 'self-approval' });
    const lax = createPolicy({ approvers: ['UREQ1'], allowSelfApproval: true });
    expect((await lax.canApprove('UREQ1', job)).ok).toBe(true);
  });

  it('names a user group as a group mention, not as a user', async () => {
    const p = createPolicy({ operators: ['SDBA1'], approvers: ['SDBA1'] }, async () => ['UMEMBER1']);
    expect((await p.canRun('UXX1', true)).reason).toBe('<@UXX1> is not an operator; ask one of <!subteam^SDBA1>');
    expect((await p.canApprove('UXX1', job)).reason).toBe('<@UXX1> is not an approver; approvers are <!subteam^SDBA1>');
  });

  it('resolves user groups through the injected resolver, and says when it cannot', async () => {
    const calls: string[] = [];
    const p = createPolicy({ operators: ['SDBA1'], approvers: ['SDBA1', 'SBROKEN'] }, async (g) => {
      calls.push(g);
      if (g === 'SBROKEN') throw new Error('usergroups.users.list failed');
      return ['UMEMBER1'];
    });
    expect((await p.canRun('UMEMBER1', true)).ok).toBe(true);
    expect((await p.canApprove('UMEMBER1', job)).ok).toBe(true);
    expect(await p.canApprove('UOTHER1', job)).toMatchObject({ ok: false, reason: expect.stringContaining('(user group SBROKEN could not be resolved)') });
    expect(calls).toContain('SBROKEN');
    const noResolver = createPolicy({ operators: ['SDBA1'] });
    expect(await noResolver.canRun('UMEMBER1', true)).toMatchObject({ ok: false, reason: expect.stringContaining('(user group SDBA1 could not be resolved)') });
  });
});
