/**
 * Grants across a deep copy: `new_<t>` is created without the old table's grants, so after the swap the bot re-grants
 * what `old_<t>` had. The ACL is read from the catalog (aclQuery) as aclitem text and parsed here:
 *
 *   {alice=arwdRxtD/owner,"group analysts=r/owner",=r/owner}      (array form)
 *   alice=arwdRxtD/owner~group analysts=r/owner~=r/owner           (array_to_string(relacl, '~'))
 *
 * `grantee=privileges/grantor`; an empty grantee is PUBLIC; Redshift writes groups as `group <name>`; a `*` after a
 * letter means WITH GRANT OPTION; names that need it are double-quoted ("" inside). Privilege letters differ: Redshift
 * has D = DROP, P = TRUNCATE, A = ALTER (R = RULE and t = TRIGGER are legacy and not grantable); PostgreSQL (the
 * sandbox) has D = TRUNCATE, t = TRIGGER, m = MAINTAIN. Grants to Redshift roles do not appear in relacl (they live in
 * svv_relation_privileges) and are not re-granted here.
 */
import { qualified, quoteIdent } from '../schema/identifiers.js';
import type { AclGrant } from './types.js';

export type AclDialect = 'redshift' | 'postgres';

const LETTERS: Record<AclDialect, Record<string, string | null>> = {
  redshift: { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', x: 'REFERENCES', D: 'DROP', P: 'TRUNCATE', A: 'ALTER', R: null, t: null },
  postgres: { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', x: 'REFERENCES', D: 'TRUNCATE', t: 'TRIGGER', m: 'MAINTAIN' },
};

export type AclParse = { ok: true; grants: AclGrant[] } | { ok: false; error: string };

/** Split on `sep` outside double quotes (a quoted part keeps its quotes). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The elements of a PostgreSQL array literal `{a,"b c",…}` (double-quoted elements use \" and \\ escapes). */
function arrayElements(text: string): string[] | undefined {
  const inner = text.slice(1, -1);
  const out: string[] = [];
  let i = 0;
  while (i < inner.length) {
    if (inner[i] === '"') {
      let v = '';
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === '\\' && i + 1 < inner.length) i++;
        v += inner[i];
        i++;
      }
      if (inner[i] !== '"') return undefined;
      i++;
      out.push(v);
    } else {
      let j = inner.indexOf(',', i);
      if (j < 0) j = inner.length;
      out.push(inner.slice(i, j));
      i = j;
    }
    if (i < inner.length) {
      if (inner[i] !== ',') return undefined;
      i++;
    }
  }
  return out;
}

/** A role name as aclitem prints it: plain, or "quoted" with "" for a quote. */
function readName(s: string): string | undefined {
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) return undefined;
    return s.slice(1, -1).replace(/""/g, '"');
  }
  return s.includes('"') ? undefined : s;
}

function parseItem(item: string, dialect: AclDialect): AclGrant | string {
  const parts = splitOutsideQuotes(item, '=');
  if (parts.length !== 2) return `"${item}" is not grantee=privileges/grantor`;
  const [who, rest] = parts as [string, string];
  const slash = splitOutsideQuotes(rest, '/');
  if (slash.length !== 2) return `"${item}" has no /grantor`;
  const [letters, grantorText] = slash as [string, string];
  const grantor = readName(grantorText);
  if (grantor === undefined) return `"${item}": bad grantor name`;
  let granteeKind: AclGrant['granteeKind'] = 'user';
  let nameText = who;
  if (who === '') granteeKind = 'public';
  else if (who.startsWith('group ')) {
    granteeKind = 'group';
    nameText = who.slice(6);
  }
  const grantee = granteeKind === 'public' ? '' : readName(nameText);
  if (grantee === undefined || (granteeKind !== 'public' && grantee === '')) return `"${item}": bad grantee name`;
  const privileges: string[] = [];
  const grantable: string[] = [];
  for (let i = 0; i < letters.length; i++) {
    const l = letters[i]!;
    if (!(l in LETTERS[dialect])) return `"${item}": unknown privilege letter "${l}" for ${dialect}`;
    const name = LETTERS[dialect][l];
    const star = letters[i + 1] === '*';
    if (star) i++;
    if (name === null || name === undefined) continue;
    privileges.push(name);
    if (star) grantable.push(name);
  }
  return { grantee, granteeKind, privileges, grantable, grantor };
}

/** Parse a table's ACL text (array form or `~`-joined); NULL / '' / `{}` means no grants beyond the owner's. */
export function parseAcl(text: string | null | undefined, dialect: AclDialect = 'redshift'): AclParse {
  if (text === null || text === undefined) return { ok: true, grants: [] };
  const s = text.trim();
  if (s === '' || s === '{}') return { ok: true, grants: [] };
  let items: string[];
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) return { ok: false, error: `ACL "${s.slice(0, 60)}" does not end with }` };
    const els = arrayElements(s);
    if (els === undefined) return { ok: false, error: `ACL "${s.slice(0, 60)}" is not an array of aclitems` };
    items = els;
  } else items = splitOutsideQuotes(s, '~');
  const grants: AclGrant[] = [];
  for (const item of items) {
    const g = parseItem(item.trim(), dialect);
    if (typeof g === 'string') return { ok: false, error: `cannot read the table's grants: ${g}` };
    if (g.privileges.length > 0) grants.push(g);
  }
  return { ok: true, grants };
}

/** Which warehouse (version(): Redshift or PostgreSQL, whose ACL letters differ) and the bot's own user. */
export const SESSION_QUERY = 'SELECT version() AS v, current_user AS u';

/**
 * The catalog query for a table's ACL and owner (bound parameters :schema, :table). Works on Redshift and PostgreSQL;
 * returns one row: `acl` (`~`-joined aclitems or NULL), `owner`.
 */
export const ACL_QUERY =
  "SELECT array_to_string(c.relacl, '~') AS acl, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relname = :table";

export interface RegrantOptions {
  /** the new table's owner-to-be: `ALTER TABLE … OWNER TO`; that user's own ACL entry is then implied, not granted */
  owner?: string;
  /** users whose entries need no grant (the bot's user, which creates and so owns `new_<t>`) */
  skip?: readonly string[];
}

/**
 * The statements that give `schema.table` the grants `grants` describe. Grantees that hold the same privileges share
 * ONE `GRANT … TO a, GROUP g, PUBLIC` (the swap is one BatchExecuteStatement, at most 40 statements, so a table read
 * by many users must not cost a statement each); WITH GRANT OPTION is per user in Redshift's grammar
 * (`TO username WITH GRANT OPTION`), so those stay one statement per user and privilege set.
 */
export function regrantStatements(grants: readonly AclGrant[], schema: string, table: string, opts: RegrantOptions = {}): string[] {
  const target = qualified(schema, table);
  const out: string[] = [];
  if (opts.owner !== undefined) out.push(`ALTER TABLE ${target} OWNER TO ${quoteIdent(opts.owner)}`);
  const skip = new Set([...(opts.skip ?? []), ...(opts.owner !== undefined ? [opts.owner] : [])]);
  const plainBySet = new Map<string, string[]>();
  const withOption: string[] = [];
  for (const g of grants) {
    if (g.granteeKind === 'user' && skip.has(g.grantee)) continue;
    const to = g.granteeKind === 'public' ? 'PUBLIC' : g.granteeKind === 'group' ? `GROUP ${quoteIdent(g.grantee)}` : quoteIdent(g.grantee);
    // WITH GRANT OPTION exists for users only (not groups or PUBLIC)
    const grantable = g.granteeKind === 'user' ? g.grantable : [];
    const plain = g.privileges.filter((p) => !grantable.includes(p));
    if (plain.length) {
      const key = plain.join(', ');
      const list = plainBySet.get(key) ?? [];
      if (!list.includes(to)) list.push(to);
      plainBySet.set(key, list);
    }
    if (grantable.length) withOption.push(`GRANT ${grantable.join(', ')} ON ${target} TO ${to} WITH GRANT OPTION`);
  }
  for (const [privs, to] of plainBySet) out.push(`GRANT ${privs} ON ${target} TO ${to.join(', ')}`);
  return [...out, ...withOption];
}
