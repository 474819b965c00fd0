/**
 * CloudWatch Logs sandbox: the `Logs_20140328.*` operations the bot (and DMS) use, in memory, speaking awsJson1_1 exactly
 * as @aws-sdk/client-cloudwatch-logs sends it (camelCase fields, timestamps in epoch milliseconds).
 *
 * FilterLogEvents pages the way the real service does: each call scans a bounded slice of the matching time range and
 * returns what matched in it, so a page can be EMPTY and still carry a nextToken; a client must follow nextToken until
 * it is absent. `emptyPageEvery` makes that happen deterministically even when every event matches.
 *
 * Late ingestion (fault knob `logIngestionDelayMs`): an event put now is stored — returned by FilterLogEvents — only
 * after the delay, under its own (earlier) timestamp, as CloudWatch does when ingestion lags: a reader that scanned its
 * time range already never sees it unless it reads that range again.
 *
 * Filter patterns: plain terms (all must appear), quoted phrases (`"]E:"`), `?a ?b` (any of), `-term` (must not appear).
 * Matching is case-sensitive substring matching. JSON (`{ $.x = … }`), space-delimited (`[a, b]`) and regex (`%…%`)
 * patterns are refused with InvalidParameterException rather than silently matching nothing.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type AwsJsonResponse, SandboxFault, decodeToken, encodeToken, faultResponse, ok, operationOf, parseInput } from './aws-fault.js';

export const LOGS_TARGET_PREFIX = 'Logs_20140328';

const INVALID = 'InvalidParameterException';
const NOT_FOUND = 'ResourceNotFoundException';
const EXISTS = 'ResourceAlreadyExistsException';

export interface LogsSandboxOptions {
  region?: string;
  accountId?: string;
  /** clock in epoch ms (tests may inject one) */
  now?: () => number;
  /** at most this many events per FilterLogEvents page, whatever `limit` asks (default 5: paging is exercised) */
  pageSize?: number;
  /** at most this many candidate events are scanned per FilterLogEvents call (default 4 × pageSize) */
  scanBudget?: number;
  /**
   * every n-th FilterLogEvents response of a query (the 1st, the (n+1)-th, …) is empty but carries a nextToken while
   * events remain (default 3; 0 turns it off)
   */
  emptyPageEvery?: number;
  /**
   * fault knob (read on every put): events are stored this many ms after they were put — FilterLogEvents returns an
   * event only once `ingestionTime` has passed, while its timestamp stays what the writer gave it (default 0)
   */
  ingestionDelayMs?: () => number;
}

export interface StoredEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  eventId: string;
  /** global ingestion sequence: orders events with equal timestamps */
  seq: number;
}

interface StreamRec {
  name: string;
  creationTime: number;
  events: StoredEvent[];
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
}

interface GroupRec {
  name: string;
  creationTime: number;
  streams: Map<string, StreamRec>;
}

export interface InputEvent {
  timestamp: number;
  message: string;
}

const GROUP_NAME = z.string().min(1).max(512).regex(/^[.\-_/#A-Za-z0-9]+$/, 'log group names use letters, digits and . - _ / #');
const STREAM_NAME = z.string().min(1).max(512).regex(/^[^:*]+$/, 'log stream names cannot contain : or *');

const createLogGroupInput = z.object({ logGroupName: GROUP_NAME });
const createLogStreamInput = z.object({ logGroupName: GROUP_NAME, logStreamName: STREAM_NAME });
const putLogEventsInput = z.object({
  logGroupName: GROUP_NAME,
  logStreamName: STREAM_NAME,
  logEvents: z.array(z.object({ timestamp: z.number().int().nonnegative(), message: z.string().min(1) })).min(1).max(10_000),
  sequenceToken: z.string().optional(),
});
const describeLogGroupsInput = z.object({
  logGroupNamePrefix: z.string().optional(),
  limit: z.number().int().min(1).max(50).optional(),
  nextToken: z.string().optional(),
});
const describeLogStreamsInput = z.object({
  logGroupName: GROUP_NAME.optional(),
  logGroupIdentifier: z.string().optional(),
  logStreamNamePrefix: z.string().optional(),
  orderBy: z.enum(['LogStreamName', 'LastEventTime']).optional(),
  descending: z.boolean().optional(),
  nextToken: z.string().optional(),
  limit: z.number().int().min(1).max(50).optional(),
});
const filterLogEventsInput = z.object({
  logGroupName: GROUP_NAME.optional(),
  logGroupIdentifier: z.string().optional(),
  logStreamNames: z.array(STREAM_NAME).min(1).max(100).optional(),
  logStreamNamePrefix: z.string().optional(),
  startTime: z.number().int().nonnegative().optional(),
  endTime: z.number().int().nonnegative().optional(),
  filterPattern: z.string().max(1024).optional(),
  nextToken: z.string().optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  interleaved: z.boolean().optional(),
  startFromHead: z.boolean().optional(),
  unmask: z.boolean().optional(),
});
type FilterInput = z.output<typeof filterLogEventsInput>;

const filterTokenShape = z.object({ q: z.string(), ts: z.number().nullable(), seq: z.number().nullable(), p: z.number().int() });

const DAY = 86_400_000;

// ───────────────────────────── filter patterns ─────────────────────────────

export interface FilterPattern {
  all: string[];
  any: string[];
  none: string[];
}

/** Parse a CloudWatch filter pattern (the subset described at the top of this file). Throws SandboxFault on others. */
export function parseFilterPattern(pattern: string | undefined): FilterPattern {
  const out: FilterPattern = { all: [], any: [], none: [] };
  const text = (pattern ?? '').trim();
  if (text === '') return out;
  if (/^[{[%]/.test(text))
    throw new SandboxFault(
      INVALID,
      `filterPattern "${text}": the sandbox supports plain terms, "quoted phrases", ?OR terms and -exclusions, not JSON, space-delimited or regex patterns`,
    );
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let kind: keyof FilterPattern = 'all';
    if (text[i] === '?') {
      kind = 'any';
      i++;
    } else if (text[i] === '-' && i + 1 < text.length && !/\s/.test(text[i + 1]!)) {
      kind = 'none';
      i++;
    }
    let term = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i]!;
        if (ch === '\\' && i + 1 < text.length) {
          term += text[i + 1];
          i += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          i++;
          break;
        }
        term += ch;
        i++;
      }
      if (!closed) throw new SandboxFault(INVALID, `filterPattern "${text}": a quoted phrase is not closed`);
    } else {
      while (i < text.length && !/\s/.test(text[i]!)) term += text[i++];
    }
    if (term === '') throw new SandboxFault(INVALID, `filterPattern "${text}": empty term at position ${i}`);
    out[kind].push(term);
  }
  return out;
}

export function matchesPattern(p: FilterPattern, message: string): boolean {
  for (const t of p.all) if (!message.includes(t)) return false;
  for (const t of p.none) if (message.includes(t)) return false;
  if (p.any.length > 0 && !p.any.some((t) => message.includes(t))) return false;
  return true;
}

// ───────────────────────────── the sandbox ─────────────────────────────

export class LogsSandbox {
  private readonly groups = new Map<string, GroupRec>();
  private readonly now: () => number;
  private readonly region: string;
  private readonly accountId: string;
  private readonly pageSize: number;
  private readonly scanBudget: number;
  private readonly emptyPageEvery: number;
  private readonly ingestionDelayMs: () => number;
  private seq = 0;
  private throttle = 0;
  /** how many FilterLogEvents responses were empty but carried a nextToken (tests assert paging was exercised) */
  emptyPagesServed = 0;

  constructor(opts: LogsSandboxOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.region = opts.region ?? 'us-west-2';
    this.accountId = opts.accountId ?? '123456789012';
    this.pageSize = Math.max(1, opts.pageSize ?? 5);
    this.scanBudget = Math.max(1, opts.scanBudget ?? this.pageSize * 4);
    this.emptyPageEvery = Math.max(0, opts.emptyPageEvery ?? 3);
    this.ingestionDelayMs = opts.ingestionDelayMs ?? (() => 0);
  }

  /** Mount point for the HTTP server: `Logs_20140328.<Operation>` + parsed JSON body. */
  async handle(target: string, body: unknown): Promise<AwsJsonResponse> {
    try {
      const op = operationOf(target, LOGS_TARGET_PREFIX);
      if (this.throttle > 0) {
        this.throttle--;
        throw new SandboxFault('ThrottlingException', 'Rate exceeded (sandbox throttling knob)');
      }
      switch (op) {
        case 'CreateLogGroup': {
          const i = parseInput(createLogGroupInput, body, op, INVALID);
          this.createLogGroup(i.logGroupName);
          return ok({});
        }
        case 'CreateLogStream': {
          const i = parseInput(createLogStreamInput, body, op, INVALID);
          this.createLogStream(i.logGroupName, i.logStreamName);
          return ok({});
        }
        case 'PutLogEvents': {
          const i = parseInput(putLogEventsInput, body, op, INVALID);
          return ok(this.putLogEvents(i.logGroupName, i.logStreamName, i.logEvents));
        }
        case 'DescribeLogGroups':
          return ok(this.describeLogGroups(parseInput(describeLogGroupsInput, body, op, INVALID)));
        case 'DescribeLogStreams':
          return ok(this.describeLogStreams(parseInput(describeLogStreamsInput, body, op, INVALID)));
        case 'FilterLogEvents':
          return ok(this.filterLogEvents(parseInput(filterLogEventsInput, body, op, INVALID)));
        default:
          throw new SandboxFault('UnknownOperationException', `the CloudWatch Logs sandbox does not implement ${op}`);
      }
    } catch (err) {
      return faultResponse(err);
    }
  }

  /** Fault knob: the next `n` calls fail with ThrottlingException (the SDK retries them). */
  throttleNext(n: number): void {
    this.throttle = Math.max(0, n);
  }

  // ── direct API (used by the DMS sandbox and the apply loops; no HTTP) ──

  createLogGroup(name: string): void {
    if (this.groups.has(name)) throw new SandboxFault(EXISTS, `The specified log group already exists: ${name}`);
    this.groups.set(name, { name, creationTime: this.now(), streams: new Map() });
  }

  createLogStream(group: string, stream: string): void {
    const g = this.group(group);
    if (g.streams.has(stream)) throw new SandboxFault(EXISTS, `The specified log stream already exists: ${group}/${stream}`);
    g.streams.set(stream, { name: stream, creationTime: this.now(), events: [], storedBytes: 0 });
  }

  /** Create the group and stream if they are missing (what DMS does when a task with logging starts). */
  ensureStream(group: string, stream: string): void {
    if (!this.groups.has(group)) this.createLogGroup(group);
    const g = this.group(group);
    if (!g.streams.has(stream)) this.createLogStream(group, stream);
  }

  putLogEvents(
    group: string,
    stream: string,
    events: readonly InputEvent[],
  ): { nextSequenceToken: string; rejectedLogEventsInfo?: { tooNewLogEventStartIndex?: number; tooOldLogEventEndIndex?: number } } {
    const s = this.stream(group, stream);
    for (let k = 1; k < events.length; k++) {
      if (events[k]!.timestamp < events[k - 1]!.timestamp)
        throw new SandboxFault(INVALID, `Log events in a single PutLogEvents request must be in chronological order (event ${k} is older than event ${k - 1})`);
    }
    const now = this.now();
    const ingestedAt = now + Math.max(0, this.ingestionDelayMs());
    let tooOld = -1;
    let tooNew = -1;
    events.forEach((e, k) => {
      if (e.timestamp < now - 14 * DAY) tooOld = k;
      else if (e.timestamp > now + 2 * 3_600_000 && tooNew < 0) tooNew = k;
    });
    events.forEach((e, k) => {
      if (k <= tooOld || (tooNew >= 0 && k >= tooNew)) return;
      const seq = ++this.seq;
      s.events.push({ timestamp: e.timestamp, message: e.message, ingestionTime: ingestedAt, eventId: `${String(e.timestamp).padStart(16, '0')}${String(seq).padStart(20, '0')}`, seq });
      s.firstEventTimestamp = Math.min(s.firstEventTimestamp ?? e.timestamp, e.timestamp);
      s.lastEventTimestamp = Math.max(s.lastEventTimestamp ?? e.timestamp, e.timestamp);
      s.lastIngestionTime = ingestedAt;
      s.storedBytes += Buffer.byteLength(e.message, 'utf8') + 26;
    });
    const rejected: { tooNewLogEventStartIndex?: number; tooOldLogEventEndIndex?: number } = {};
    if (tooOld >= 0) rejected.tooOldLogEventEndIndex = tooOld;
    if (tooNew >= 0) rejected.tooNewLogEventStartIndex = tooNew;
    return {
      nextSequenceToken: String(this.seq).padStart(56, '0'),
      ...(tooOld >= 0 || tooNew >= 0 ? { rejectedLogEventsInfo: rejected } : {}),
    };
  }

  /** Append lines with timestamp = now (creating group/stream if needed). */
  append(group: string, stream: string, messages: readonly string[]): void {
    if (messages.length === 0) return;
    this.ensureStream(group, stream);
    const ts = this.now();
    this.putLogEvents(group, stream, messages.map((message) => ({ timestamp: ts, message })));
  }

  /** Every stored event of a stream, in order (tests). */
  events(group: string, stream?: string): (StoredEvent & { logStreamName: string })[] {
    const g = this.group(group);
    const out: (StoredEvent & { logStreamName: string })[] = [];
    for (const s of g.streams.values()) if (stream === undefined || s.name === stream) for (const e of s.events) out.push({ ...e, logStreamName: s.name });
    return out.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  }

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  // ── operations ──

  private describeLogGroups(i: z.output<typeof describeLogGroupsInput>): unknown {
    const all = [...this.groups.values()].filter((g) => i.logGroupNamePrefix === undefined || g.name.startsWith(i.logGroupNamePrefix)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const { page, next } = this.offsetPage(all, i.nextToken, i.limit ?? 50, 'groups');
    return {
      logGroups: page.map((g) => ({
        logGroupName: g.name,
        creationTime: g.creationTime,
        arn: `${this.groupArn(g.name)}:*`,
        logGroupArn: this.groupArn(g.name),
        storedBytes: [...g.streams.values()].reduce((n, s) => n + s.storedBytes, 0),
        metricFilterCount: 0,
        logGroupClass: 'STANDARD',
      })),
      ...(next ? { nextToken: next } : {}),
    };
  }

  private describeLogStreams(i: z.output<typeof describeLogStreamsInput>): unknown {
    const g = this.group(this.groupNameOf(i.logGroupName, i.logGroupIdentifier));
    if (i.orderBy === 'LastEventTime' && i.logStreamNamePrefix !== undefined)
      throw new SandboxFault(INVALID, 'Cannot order by LastEventTime with a logStreamNamePrefix');
    let all = [...g.streams.values()].filter((s) => i.logStreamNamePrefix === undefined || s.name.startsWith(i.logStreamNamePrefix));
    if (i.orderBy === 'LastEventTime') all.sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || (a.name < b.name ? -1 : 1));
    else all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (i.descending) all = all.reverse();
    const { page, next } = this.offsetPage(all, i.nextToken, i.limit ?? 50, `streams:${g.name}`);
    return {
      logStreams: page.map((s) => ({
        logStreamName: s.name,
        creationTime: s.creationTime,
        ...(s.firstEventTimestamp !== undefined ? { firstEventTimestamp: s.firstEventTimestamp } : {}),
        ...(s.lastEventTimestamp !== undefined ? { lastEventTimestamp: s.lastEventTimestamp } : {}),
        ...(s.lastIngestionTime !== undefined ? { lastIngestionTime: s.lastIngestionTime } : {}),
        uploadSequenceToken: String(this.seq).padStart(56, '0'),
        arn: `${this.groupArn(g.name)}:log-stream:${s.name}`,
        storedBytes: 0,
      })),
      ...(next ? { nextToken: next } : {}),
    };
  }

  private filterLogEvents(i: FilterInput): unknown {
    const g = this.group(this.groupNameOf(i.logGroupName, i.logGroupIdentifier));
    if (i.logStreamNames !== undefined && i.logStreamNamePrefix !== undefined)
      throw new SandboxFault(INVALID, 'logStreamNames and logStreamNamePrefix are mutually exclusive: pass one of them');
    if (i.startTime !== undefined && i.endTime !== undefined && i.endTime < i.startTime)
      throw new SandboxFault(INVALID, `endTime (${i.endTime}) is before startTime (${i.startTime})`);
    const pattern = parseFilterPattern(i.filterPattern);
    let streams: StreamRec[];
    if (i.logStreamNames !== undefined) {
      streams = [];
      for (const n of i.logStreamNames) {
        const s = g.streams.get(n);
        if (s === undefined) throw new SandboxFault(NOT_FOUND, `The specified log stream does not exist: ${g.name}/${n}`);
        streams.push(s);
      }
    } else {
      streams = [...g.streams.values()].filter((s) => i.logStreamNamePrefix === undefined || s.name.startsWith(i.logStreamNamePrefix));
    }
    const queryHash = createHash('sha256')
      .update(JSON.stringify([g.name, i.logStreamNames ?? null, i.logStreamNamePrefix ?? null, i.startTime ?? null, i.endTime ?? null, i.filterPattern ?? '']))
      .digest('base64url')
      .slice(0, 16);

    let afterTs: number | null = null;
    let afterSeq: number | null = null;
    let pageNo = 0;
    if (i.nextToken !== undefined) {
      const parsed = filterTokenShape.safeParse(decodeToken(i.nextToken, INVALID));
      if (!parsed.success || parsed.data.q !== queryHash)
        throw new SandboxFault(INVALID, 'The specified nextToken is invalid: it belongs to a different query (group, streams, time range and filterPattern must stay the same while paging)');
      afterTs = parsed.data.ts;
      afterSeq = parsed.data.seq;
      pageNo = parsed.data.p;
    }

    const after = (e: StoredEvent): boolean =>
      afterTs === null || afterSeq === null || e.timestamp > afterTs || (e.timestamp === afterTs && e.seq > afterSeq);
    const candidates: (StoredEvent & { stream: string })[] = [];
    const now = this.now();
    for (const s of streams)
      for (const e of s.events)
        if (e.ingestionTime <= now && (i.startTime === undefined || e.timestamp >= i.startTime) && (i.endTime === undefined || e.timestamp <= i.endTime) && after(e))
          candidates.push({ ...e, stream: s.name });
    candidates.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);

    const token = (ts: number | null, seq: number | null): string => encodeToken({ q: queryHash, ts, seq, p: pageNo + 1 });
    const searched = streams.map((s) => ({ logStreamName: s.name, searchedCompletely: true }));
    if (candidates.length === 0) return { events: [], searchedLogStreams: searched };

    if (this.emptyPageEvery > 0 && pageNo % this.emptyPageEvery === 0) {
      this.emptyPagesServed++;
      return { events: [], searchedLogStreams: searched.map((s) => ({ ...s, searchedCompletely: false })), nextToken: token(afterTs, afterSeq) };
    }

    const limit = Math.min(i.limit ?? 10_000, this.pageSize);
    const events: unknown[] = [];
    let scanned = 0;
    let last: StoredEvent | undefined;
    for (const e of candidates) {
      if (events.length >= limit || scanned >= this.scanBudget) break;
      scanned++;
      last = e;
      if (matchesPattern(pattern, e.message))
        events.push({ logStreamName: e.stream, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: e.eventId });
    }
    const more = scanned < candidates.length;
    if (events.length === 0 && more) this.emptyPagesServed++;
    return {
      events,
      searchedLogStreams: searched.map((s) => ({ ...s, searchedCompletely: !more })),
      ...(more && last !== undefined ? { nextToken: token(last.timestamp, last.seq) } : {}),
    };
  }

  // ── helpers ──

  private offsetPage<T>(all: T[], nextToken: string | undefined, limit: number, scope: string): { page: T[]; next?: string } {
    let offset = 0;
    if (nextToken !== undefined) {
      const t = z.object({ scope: z.literal(scope), offset: z.number().int().nonnegative() }).safeParse(decodeToken(nextToken, INVALID));
      if (!t.success) throw new SandboxFault(INVALID, 'The specified nextToken is invalid for this request');
      offset = t.data.offset;
    }
    const page = all.slice(offset, offset + limit);
    return offset + limit < all.length ? { page, next: encodeToken({ scope, offset: offset + limit }) } : { page };
  }

  private groupNameOf(name: string | undefined, identifier: string | undefined): string {
    if (name !== undefined && identifier !== undefined) throw new SandboxFault(INVALID, 'logGroupName and logGroupIdentifier are mutually exclusive: pass one of them');
    const n = name ?? identifier;
    if (n === undefined) throw new SandboxFault(INVALID, 'logGroupName (or logGroupIdentifier) is required');
    // an identifier may be an ARN: arn:aws:logs:<region>:<account>:log-group:<name>[:*]
    const m = /^arn:aws[\w-]*:logs:[^:]*:[^:]*:log-group:([^:]+)(?::\*)?$/.exec(n);
    return m?.[1] ?? n;
  }

  private group(name: string): GroupRec {
    const g = this.groups.get(name);
    if (g === undefined) throw new SandboxFault(NOT_FOUND, `The specified log group does not exist: ${name}`);
    return g;
  }

  private stream(group: string, stream: string): StreamRec {
    const s = this.group(group).streams.get(stream);
    if (s === undefined) throw new SandboxFault(NOT_FOUND, `The specified log stream does not exist: ${group}/${stream}`);
    return s;
  }

  private groupArn(name: string): string {
    return `arn:aws:logs:${this.region}:${this.accountId}:log-group:${name}`;
  }
}
