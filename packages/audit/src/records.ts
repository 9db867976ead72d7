/**
 * Reading audit lines leniently, for export and stats: both our hash-chained records and Rust-era
 * records (no `prev_hash`/`hash`) are accepted. A line that is not a record is skipped and
 * counted, as the Rust Kvlar skipped it; verification, not this, is what judges a chain. A record
 * with an `upstream` is a result record (how a forwarded call ended), not a decision.
 */
import type { AuditOutcome, AuditUpstream } from './event.js';

/** The fields every Kvlar record has had since the Rust version, plus the line it came from. */
export interface AuditRecord {
  readonly id: string;
  readonly timestamp: string;
  /** `timestamp` as milliseconds since the epoch. */
  readonly time: number;
  readonly action_type: string;
  readonly resource: string;
  readonly agent_id: string;
  readonly outcome: AuditOutcome;
  readonly matched_rule: string;
  readonly reason?: string;
  readonly server?: string;
  readonly session?: string;
  /** On a record that follows up a call (an approval answer, a result): the call's first record's `id`. */
  readonly call_id?: string;
  /**
   * What the MCP server answered: present exactly on **result records**, which say how a
   * forwarded call ended and are not decisions (stats count them apart).
   */
  readonly upstream?: AuditUpstream;
  /** The whole parsed object, fields of later versions included. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The line as stored, without its newline. */
  readonly line: string;
}

export interface SkippedLine {
  readonly file?: string;
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

export interface ParsedRecords {
  readonly records: readonly AuditRecord[];
  readonly skipped: readonly SkippedLine[];
}

const OUTCOMES: ReadonlySet<string> = new Set(['allowed', 'denied', 'pending_approval']);

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time as milliseconds since the epoch (fractions beyond milliseconds are
 * truncated), or `undefined`. Stricter than `Date.parse`, which accepts many other shapes.
 */
export function parseRfc3339(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, , sign, offsetHour, offsetMinute] =
    match;
  const numbers = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = numbers;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return undefined;
  // Not Date.UTC: it reads years 0–99 as 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, Math.min(s, 59), 0);
  if (date.getUTCDate() !== d) return undefined;
  const base = date.getTime();
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (sign !== undefined) {
    const oh = Number(offsetHour);
    const om = Number(offsetMinute);
    if (oh > 23 || om > 59) return undefined;
    offset = (sign === '+' ? 1 : -1) * (oh * 60 + om) * 60_000;
  }
  return base + millis - offset;
}

type RecordCheck =
  | { readonly ok: true; readonly record: AuditRecord }
  | { readonly ok: false; readonly message: string };

/** One line as a record, or why it is not one. */
export function parseRecordLine(line: string): RecordCheck {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, message: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'not a JSON object' };
  }
  const fields = value as Readonly<Record<string, unknown>>;
  const text = (name: string): string | undefined => {
    const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
    return typeof field === 'string' ? field : undefined;
  };
  const required = ['id', 'timestamp', 'action_type', 'resource', 'agent_id', 'matched_rule'];
  const missing = required.filter((name) => text(name) === undefined);
  if (missing.length > 0) return { ok: false, message: `no string ${missing.join(', ')}` };
  const outcome = text('outcome');
  if (outcome === undefined || !OUTCOMES.has(outcome)) {
    return { ok: false, message: 'outcome is not allowed, denied or pending_approval' };
  }
  const timestamp = text('timestamp') ?? '';
  const time = parseRfc3339(timestamp);
  if (time === undefined) return { ok: false, message: 'timestamp is not RFC 3339' };
  const optional = (name: 'reason' | 'server' | 'session' | 'call_id') => {
    const field = text(name);
    return field === undefined ? {} : { [name]: field };
  };
  // A line with an `upstream` it cannot read is skipped, not read as a decision: counting a
  // result as a second decision would be the worse mistake.
  let upstream: AuditUpstream | undefined;
  if (Object.hasOwn(fields, 'upstream')) {
    upstream = upstreamOf(fields.upstream);
    if (upstream === undefined) {
      const message = 'upstream is not {ok: boolean, duration_ms: number >= 0, error?: string}';
      return { ok: false, message };
    }
  }
  return {
    ok: true,
    record: {
      id: text('id') ?? '',
      timestamp,
      time,
      action_type: text('action_type') ?? '',
      resource: text('resource') ?? '',
      agent_id: text('agent_id') ?? '',
      outcome: outcome as AuditOutcome,
      matched_rule: text('matched_rule') ?? '',
      ...optional('reason'),
      ...optional('server'),
      ...optional('session'),
      ...optional('call_id'),
      ...(upstream === undefined ? {} : { upstream }),
      fields,
      line,
    },
  };
}

/** A result record's `upstream`, copied, or `undefined` when it is not one. */
function upstreamOf(value: unknown): AuditUpstream | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Readonly<Record<string, unknown>>;
  const own = (name: string): unknown => (Object.hasOwn(fields, name) ? fields[name] : undefined);
  const ok = own('ok');
  const duration = own('duration_ms');
  const error = own('error');
  if (typeof ok !== 'boolean') return undefined;
  if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) return undefined;
  if (error !== undefined && typeof error !== 'string') return undefined;
  return { ok, ...(error === undefined ? {} : { error }), duration_ms: duration };
}

/** The records of a file's text; blank lines are ignored, other non-records skipped and listed. */
export function parseRecords(
  text: string,
  options: {
    readonly file?: string;
    /**
     * The text is a whole file, as read from disk. Its last line without a newline is then torn
     * (a write cut short, or bytes added by hand): verification leaves it out of the chain, so it
     * is skipped and listed here too, and stats and export count what verify vouched for.
     */
    readonly wholeFile?: boolean;
  } = {},
): ParsedRecords {
  const records: AuditRecord[] = [];
  const skipped: SkippedLine[] = [];
  const lines = text.split('\n');
  const torn = options.wholeFile === true ? (lines.pop() ?? '') : '';
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const parsed = parseRecordLine(line);
    if (parsed.ok) records.push(parsed.record);
    else {
      skipped.push({
        ...(options.file === undefined ? {} : { file: options.file }),
        line: index + 1,
        message: parsed.message,
      });
    }
  }
  if (torn !== '') {
    skipped.push({
      ...(options.file === undefined ? {} : { file: options.file }),
      line: lines.length + 1,
      message: 'the last line is incomplete (no newline); it is not part of the chain',
    });
  }
  return { records, skipped };
}
