/**
 * Who may do what. Configured with Slack ids:
 *   OPERATORS=U012AB,U034CD,S0GROUP   may run changing commands (read-only commands are open to everyone)
 *   APPROVERS=U056EF,S0DBAS           may approve gated steps (drops, swaps)
 *   ALLOW_SELF_APPROVAL=false         may the requester approve their own job? (default: no)
 * Ids starting with `S` are Slack user groups, resolved to members by an injected function (usergroups.users.list).
 * Empty lists allow nobody — a fresh install refuses changes until someone names the operators, which is the safe
 * failure. Every answer carries a reason a person can act on.
 */
import { z } from 'zod';

const SLACK_ID = /^[UWS][A-Z0-9]{2,}$/;

const idList = z
  .array(z.string().regex(SLACK_ID, 'Slack ids look like U012ABCDEF (user), W… (enterprise user) or S… (user group)'))
  .default([]);

export const policyConfigSchema = z.strictObject({
  operators: idList,
  approvers: idList,
  allowSelfApproval: z.boolean().default(false),
});
export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type PolicyConfigInput = z.input<typeof policyConfigSchema>;

/** Resolve a Slack user group (`S…`) to its members' user ids. */
export type GroupResolver = (groupId: string) => Promise<readonly string[]>;

export type Decision = { ok: true; reason: string } | { ok: false; reason: string };

function splitIds(v: string | undefined): string[] {
  return (v ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseBool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new PolicyConfigError(`${name}=${v} is not a boolean: use true or false`);
}

export class PolicyConfigError extends Error {
  /** one line per variable (the message joins them) */
  readonly problems: string[];
  constructor(message: string, problems: string[] = [message]) {
    super(message);
    this.problems = problems;
    this.name = 'PolicyConfigError';
  }
}

/** Read OPERATORS, APPROVERS and ALLOW_SELF_APPROVAL. Throws PolicyConfigError naming the variable and the bad id. */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): PolicyConfig {
  const problems: string[] = [];
  let allowSelf: boolean | undefined;
  try {
    allowSelf = parseBool('ALLOW_SELF_APPROVAL', env.ALLOW_SELF_APPROVAL);
  } catch (e) {
    problems.push(e instanceof Error ? e.message : String(e));
  }
  const raw = {
    operators: splitIds(env.OPERATORS),
    approvers: splitIds(env.APPROVERS),
    ...(allowSelf !== undefined ? { allowSelfApproval: allowSelf } : {}),
  };
  const r = policyConfigSchema.safeParse(raw);
  if (!r.success) {
    problems.push(
      ...r.error.issues.map((i) => {
        const [field, index] = i.path;
        const envName = field === 'operators' ? 'OPERATORS' : field === 'approvers' ? 'APPROVERS' : String(field);
        const bad = typeof index === 'number' && (field === 'operators' || field === 'approvers') ? ` ("${raw[field][index]}")` : '';
        return `${envName}${bad}: ${i.message}`;
      }),
    );
  }
  if (r.success && problems.length === 0) return r.data;
  throw new PolicyConfigError(r.success && problems.length === 1 ? problems[0]! : `bad policy configuration: ${problems.join('; ')}`, problems);
}

/** A Slack mention of a user (`<@U…>`) or a user group (`<!subteam^S…>`: `<@S…>` does not render as the group). */
function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

export class Policy {
  readonly config: PolicyConfig;

  constructor(
    config: PolicyConfigInput,
    private readonly resolveGroup?: GroupResolver,
  ) {
    this.config = policyConfigSchema.parse(config);
  }

  /** Is `user` one of `ids`, directly or through a user group? */
  private async member(user: string, ids: readonly string[]): Promise<{ found: boolean; unresolved: string[] }> {
    if (ids.includes(user)) return { found: true, unresolved: [] };
    const unresolved: string[] = [];
    for (const id of ids.filter((i) => i.startsWith('S'))) {
      if (!this.resolveGroup) {
        unresolved.push(id);
        continue;
      }
      try {
        if ((await this.resolveGroup(id)).includes(user)) return { found: true, unresolved: [] };
      } catch {
        unresolved.push(id);
      }
    }
    return { found: false, unresolved };
  }

  private static unresolvedNote(unresolved: string[]): string {
    return unresolved.length ? ` (user group${unresolved.length > 1 ? 's' : ''} ${unresolved.join(', ')} could not be resolved)` : '';
  }

  /** May `user` run a command? Read-only commands are open to everyone; changing ones need OPERATORS. */
  async canRun(user: string, changing: boolean): Promise<Decision> {
    if (!changing) return { ok: true, reason: 'read-only commands are open to everyone' };
    const ops = this.config.operators;
    if (ops.length === 0) {
      return { ok: false, reason: 'no operators are configured, so nobody may run changing commands: set OPERATORS to Slack user or group ids' };
    }
    const m = await this.member(user, ops);
    if (m.found) return { ok: true, reason: `${mention(user)} is an operator` };
    return { ok: false, reason: `${mention(user)} is not an operator; ask one of ${ops.map(mention).join(', ')}${Policy.unresolvedNote(m.unresolved)}` };
  }

  /** May `user` approve a gated step of `job`? Approvers only, and not the requester unless ALLOW_SELF_APPROVAL. */
  async canApprove(user: string, job: { id: string; requester: string }): Promise<Decision & { code?: 'not-approver' | 'self-approval' }> {
    const approvers = this.config.approvers;
    if (approvers.length === 0) {
      return { ok: false, code: 'not-approver', reason: 'no approvers are configured, so nothing can be approved: set APPROVERS to Slack user or group ids' };
    }
    const m = await this.member(user, approvers);
    if (!m.found) {
      return {
        ok: false,
        code: 'not-approver',
        reason: `${mention(user)} is not an approver; approvers are ${approvers.map(mention).join(', ')}${Policy.unresolvedNote(m.unresolved)}`,
      };
    }
    if (user === job.requester && !this.config.allowSelfApproval) {
      return { ok: false, code: 'self-approval', reason: `${mention(user)} asked for job ${job.id}, so another approver must approve it (ALLOW_SELF_APPROVAL is off)` };
    }
    return { ok: true, reason: `${mention(user)} is an approver` };
  }
}

export function createPolicy(config: PolicyConfigInput, resolveGroup?: GroupResolver): Policy {
  return new Policy(config, resolveGroup);
}
