/**
 * Deep copy: read the table's grants and owner (recorded in handles: the swap's {{regrants}} re-grant them on the new
 * table) and check again that the swap with these grants fits ONE batch (checked before queueing too; grants may have
 * changed since).
 */
import { parseAcl, ACL_QUERY, SESSION_QUERY } from '../../modify/grants.js';
import type { AclGrant } from '../../modify/types.js';
import type { SubmitOptions, Warehouse } from '../../warehouse/port.js';
import type { DeepCopyStep } from './deep-copy-context.js';

/** A table's grants, owner, and the bot's own user (ACL_QUERY), parsed in the dialect the warehouse speaks. */
export async function readTableGrants(wh: Warehouse, schema: string, table: string, opts: SubmitOptions = {}): Promise<{ grants: AclGrant[]; owner: string; botUser: string }> {
  const v = await wh.query(SESSION_QUERY, undefined, opts);
  const dialect = /redshift/i.test(String(v.rows[0]?.v ?? '')) ? 'redshift' : 'postgres';
  const r = await wh.query(ACL_QUERY, { schema, table }, opts);
  const parsed = parseAcl(r.rows[0]?.acl === null || r.rows[0]?.acl === undefined ? null : String(r.rows[0].acl), dialect);
  if (!parsed.ok) throw new Error(parsed.error);
  return { grants: parsed.grants, owner: String(r.rows[0]?.owner ?? ''), botUser: String(v.rows[0]?.u ?? '') };
}

export const readGrantsStep: DeepCopyStep = (c, s) => ({
  ...c.base(s),
  isDone: async (ctx) => ctx.handles['grants'] !== undefined,
  run: async (ctx) => {
    // the plan's two queries (SESSION_QUERY, ACL_QUERY), under the job's statement name
    const g = await readTableGrants(ctx.deps.warehouse, c.schema, c.name, { name: c.stmtName(ctx, 'read-grants') });
    // the swap must fit ONE batch with these grants (checked before queueing too; grants may have changed since)
    const withGrants = c.replan({ grants: g.grants, owner: g.owner, skipGrantees: [g.botUser] });
    if (!withGrants.ok) throw new Error(`${withGrants.error}\nNothing was changed.`);
    await ctx.setHandle('botUser', g.botUser);
    await ctx.setHandle('owner', g.owner);
    await ctx.setHandle('grants', JSON.stringify(g.grants));
    return g.grants.length ? `${g.grants.length} grantee(s) will be re-granted: ${g.grants.map((x) => x.grantee || 'PUBLIC').join(', ')}` : 'no grants beyond the owner';
  },
});
