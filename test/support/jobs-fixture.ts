/**
 * A test runbook whose steps have real, observable side effects in Redis, so `isDone` looks at the world for real:
 *   effect key  `<ns>:fx:effect:<step>`   exists once the step's change is applied (isDone checks it; undo removes it)
 *   counters    `<ns>:fx:applied:<step>`, `<ns>:fx:undone:<step>`   how many times the change was applied / undone
 *   log         `<ns>:fx:log`             "run:<step>" / "undo:<step>" in the order they happened
 * Knobs (Redis keys a test sets): `<ns>:fx:fail:<step>` fails the step once; params.holdBefore / holdAfter make a step
 * announce `<ns>:fx:reached:<step>` (or `reached-after`) and wait for `<ns>:fx:release:<step>` before/after applying.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { defineRunbook, type Step, type StepContext } from '../../src/jobs/runbook.js';

export interface FixtureDeps {
  redis: Redis;
}

export const fixtureParams = z.strictObject({
  ns: z.string().min(1),
  steps: z.array(z.string()).default(['prepare', 'copy', 'swap', 'cleanup']),
  /** the step that needs approval */
  gate: z.string().optional(),
  holdBefore: z.array(z.string()).default([]),
  holdAfter: z.array(z.string()).default([]),
});
export type FixtureParams = z.output<typeof fixtureParams>;

export const fx = (ns: string) => ({
  effect: (s: string) => `${ns}:fx:effect:${s}`,
  applied: (s: string) => `${ns}:fx:applied:${s}`,
  undone: (s: string) => `${ns}:fx:undone:${s}`,
  fail: (s: string) => `${ns}:fx:fail:${s}`,
  reached: (s: string) => `${ns}:fx:reached:${s}`,
  reachedAfter: (s: string) => `${ns}:fx:reached-after:${s}`,
  release: (s: string) => `${ns}:fx:release:${s}`,
  log: `${ns}:fx:log`,
});

async function hold(redis: Redis, reachedKey: string, releaseKey: string, signal: AbortSignal): Promise<void> {
  await redis.set(reachedKey, String(process.pid));
  while (!(await redis.exists(releaseKey))) {
    if (signal.aborted) throw new Error('aborted while held');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function step(name: string, p: FixtureParams): Step<FixtureDeps> {
  const k = fx(p.ns);
  return {
    name,
    title: `Apply ${name}`,
    plan: () => [
      { kind: 'check', text: `EXISTS ${k.effect(name)}` },
      { kind: 'sql', text: `-- fixture: SET ${k.effect(name)} 1` },
    ],
    isDone: async (ctx: StepContext<FixtureDeps>) => (await ctx.deps.redis.exists(k.effect(name))) === 1,
    run: async (ctx: StepContext<FixtureDeps>) => {
      const r = ctx.deps.redis;
      if (p.holdBefore.includes(name)) await hold(r, k.reached(name), k.release(name), ctx.signal);
      if ((await r.getdel(k.fail(name))) !== null) throw new Error(`injected failure in ${name}`);
      await r.multi().set(k.effect(name), String(ctx.fence)).incr(k.applied(name)).rpush(k.log, `run:${name}`).exec();
      await ctx.audit({ kind: 'statement', ref: `stmt-${name}`, outcome: 'FINISHED', text: `SET ${k.effect(name)}` });
      if (p.holdAfter.includes(name)) await hold(r, k.reachedAfter(name), k.release(name), ctx.signal);
      return `applied ${name}`;
    },
    undo: async (ctx: StepContext<FixtureDeps>) => {
      const r = ctx.deps.redis;
      if ((await r.exists(k.effect(name))) === 0) return;
      await r.multi().del(k.effect(name)).incr(k.undone(name)).rpush(k.log, `undo:${name}`).exec();
    },
    ...(p.gate === name ? { approval: { prompt: () => `Approve ${name} for ${p.ns}?` } } : {}),
  };
}

export const fixtureRunbook = defineRunbook<FixtureDeps, FixtureParams>({
  kind: 'fixture',
  paramsSchema: fixtureParams,
  build: (params) => ({ kind: 'fixture', steps: params.steps.map((s) => step(s, params)) }),
});
