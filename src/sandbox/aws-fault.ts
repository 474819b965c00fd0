/**
 * The awsJson1_1 error shape shared by the DMS and CloudWatch Logs sandboxes: HTTP 400 with
 * `{"__type": "<ErrorCode>", "message": "…"}`. The AWS SDK turns `__type` into the error's `name`
 * (a modeled class such as `InvalidResourceStateFault` when the service models it).
 */
import type { z } from 'zod';

/** What a sandbox `handle()` returns; the HTTP server writes `body` as JSON with `status`. */
export interface AwsJsonResponse {
  status: number;
  body: unknown;
}

/** A service error the sandbox returns to the client as an awsJson1_1 error. */
export class SandboxFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export function ok(body: unknown): AwsJsonResponse {
  return { status: 200, body };
}

export function faultResponse(err: unknown): AwsJsonResponse {
  if (err instanceof SandboxFault) return { status: err.status, body: { __type: err.code, message: err.message } };
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: { __type: 'InternalFailure', message: `sandbox internal error: ${message}` } };
}

/** Split `Service_20140328.OperationName` into the operation, refusing targets of another service. */
export function operationOf(target: string, prefix: string, unknownCode = 'UnknownOperationException'): string {
  if (!target.startsWith(`${prefix}.`)) throw new SandboxFault(unknownCode, `X-Amz-Target "${target}" is not a ${prefix} operation`);
  return target.slice(prefix.length + 1);
}

/** Validate a request body with zod; a failure becomes a readable fault naming each bad field. */
export function parseInput<T extends z.ZodType>(schema: T, body: unknown, operation: string, code: string): z.output<T> {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  throw new SandboxFault(code, `${operation}: invalid request — ${lines.join('; ')}`);
}

/** Opaque pagination tokens: base64url JSON, checked on the way back in. */
export function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodeToken(token: string, code: string, what = 'nextToken'): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new SandboxFault(code, `The specified ${what} is not valid: pass back the token exactly as the previous response returned it`);
  }
}

/** Milliseconds → the awsJson epoch-seconds number the SDK turns into a Date. */
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}
