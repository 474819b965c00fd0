/**
 * One health fact from one source: its value, or why it could not be read. A part that fails (no permission on a
 * system view, AWS throttling, a missing log group) degrades to `{ ok: false, why }` and every other part still shows.
 */
export type Fact<T> = { ok: true; value: T } | { ok: false; why: string };

export const known = <T>(value: T): Fact<T> => ({ ok: true, value });
export const unknown = <T>(why: string): Fact<T> => ({ ok: false, why });

/** The error's own text, on one line, without a stack. */
export function whyOf(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').trim().slice(0, 400) || 'unknown error';
}

/** Run `fn`; a throw becomes `{ ok: false, why: "<what>: <error>" }`. */
export async function gather<T>(what: string, fn: () => Promise<T>): Promise<Fact<T>> {
  try {
    return known(await fn());
  } catch (e) {
    return unknown(`${what}: ${whyOf(e)}`);
  }
}
