/**
 * The last step of a modify: rewrite schemas/ (the table and the tables whose foreign keys name it), and commit them
 * when SCHEMA_GIT_DIR is set, with who asked and who approved.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeTableFile } from '../../schema/registry.js';
import type { DeepCopyStep } from './deep-copy-context.js';

export const schemaFileStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => ctx.handles['schemaFile'] === 'written',
  run: async (ctx) => {
    const dir = ctx.deps.registry.dir;
    const files: string[] = [];
    files.push(await writeTableFile(dir, c.plan.next));
    for (const t of c.plan.referencingUpdates) files.push(await writeTableFile(dir, t));
    await ctx.setHandle('schemaFile', 'written');
    const git = c.settings.schemaGitDir;
    if (git) {
      const approver = ctx.job.approvals.find((a) => a.decision === 'approved')?.by ?? 'none';
      const message = `${c.ops.length} change(s) to ${c.schema}.${c.name} (redshift-ops job ${ctx.job.id})\n\nRequested by ${ctx.job.requester}, approved by ${approver}.\n${ctx.job.summary}`;
      const run = promisify(execFile);
      const rel = files.map((f) => path.relative(git, f));
      await run('git', ['-C', git, 'add', '--', ...rel]);
      const staged = await run('git', ['-C', git, 'diff', '--cached', '--quiet']).then(
        () => false,
        () => true,
      );
      if (staged) await run('git', ['-C', git, '-c', 'user.name=redshift-ops', '-c', 'user.email=redshift-ops@localhost', 'commit', '-m', message, '--', ...rel]);
      return `rewrote ${rel.join(', ')} and committed it in ${git}`;
    }
    return `rewrote ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`;
  },
});
