import { randomUUID } from 'node:crypto';
import { assertJson } from './canonical.js';
import { GENESIS_HASH, linkAndSerialize, type UnlinkedEvent } from './chain.js';
import type { AuditEntry, AuditEvent } from './event.js';
import type { HumanFields } from './format-human.js';
import { createRedactor, type Redactor } from './redact.js';

/** What sinks let a caller inject, so tests can assert exact records. */
export interface RecordOptions {
  /** Default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Default `crypto.randomUUID`. */
  readonly ids?: () => string;
  /** Default `createRedactor()`, with the default key and value patterns. */
  readonly redactor?: Redactor;
}

/** Turns entries into linked events, one after the other. */
export interface Recorder {
  /**
   * Completes, redacts and links an entry; throws (and links nothing) if it is not JSON. `line`
   * is the record as stored (`serializeEvent(event)`).
   */
  record(entry: AuditEntry): { readonly line: string; readonly now: Date };
  /** `record`, also returning the linked event (for sinks that keep events, not lines). */
  recordEvent(entry: AuditEntry): {
    readonly event: AuditEvent;
    readonly line: string;
    readonly now: Date;
  };
  /**
   * What a human line shows, redacted like a record, but not linked: a line for people carries
   * no chain, so it costs no hashing.
   */
  describe(entry: AuditEntry): HumanFields;
  /** The hash the next record will link to. */
  readonly lastHash: string;
}

export function createRecorder(options: RecordOptions = {}, startHash = GENESIS_HASH): Recorder {
  const clock = options.clock ?? (() => new Date());
  const ids = options.ids ?? randomUUID;
  const redactor = options.redactor ?? createRedactor();
  const reasonText = memoized((reason) => redactor.text(reason));
  let lastHash = startHash;
  /** Completes and redacts an entry and links it after the last record. */
  const link = (entry: AuditEntry) => {
    const now = clock();
    const event = unlinked(entry, redactor, reasonText, ids, now);
    const prevHash = lastHash;
    const linked = linkAndSerialize(prevHash, event);
    lastHash = linked.hash;
    return { event, prevHash, linked, now };
  };
  return {
    get lastHash() {
      return lastHash;
    },
    record(entry) {
      const { linked, now } = link(entry);
      return { line: linked.line, now };
    },
    recordEvent(entry) {
      const { event, prevHash, linked, now } = link(entry);
      return {
        event: { ...event, prev_hash: prevHash, hash: linked.hash },
        line: linked.line,
        now,
      };
    },
    describe(entry) {
      // Not shown, but a sink refuses what it could not record, whatever the format.
      if (redactor.check === undefined) assertJson(redactor.value(entry.parameters ?? null));
      else redactor.check(entry.parameters ?? null);
      return {
        timestamp: entry.timestamp ?? isoTimestamp(clock()),
        outcome: entry.outcome,
        server: entry.server,
        action_type: entry.action_type,
        resource: entry.resource,
        agent_id: entry.agent_id,
        matched_rule: entry.matched_rule,
        ...(entry.reason === undefined ? {} : { reason: reasonText(entry.reason) }),
        ...(entry.shadow === true ? { shadow: true as const } : {}),
        ...(entry.approval === undefined ? {} : { approval: entry.approval }),
        ...(entry.upstream === undefined
          ? {}
          : {
              upstream: {
                ok: entry.upstream.ok,
                duration_ms: entry.upstream.duration_ms,
                ...(entry.upstream.error === undefined
                  ? {}
                  : { error: redactor.text(entry.upstream.error) }),
              },
            }),
      };
    },
  };
}

/**
 * Copies the known fields only (a JavaScript caller's extra properties do not slip into the
 * record) and redacts before anything is hashed: arguments fully, free texts by value pattern.
 */
function unlinked(
  entry: AuditEntry,
  redactor: Redactor,
  reasonText: (reason: string) => string,
  ids: () => string,
  now: Date,
) {
  const event: UnlinkedEvent = {
    id: entry.id ?? ids(),
    timestamp: entry.timestamp ?? isoTimestamp(now),
    action_type: entry.action_type,
    resource: entry.resource,
    agent_id: entry.agent_id,
    outcome: entry.outcome,
    matched_rule: entry.matched_rule,
    ...(entry.reason === undefined ? {} : { reason: reasonText(entry.reason) }),
    ...(entry.parameters === undefined ? {} : { parameters: redactor.value(entry.parameters) }),
    session: entry.session,
    server: entry.server,
    ...(entry.shadow === true ? { shadow: true as const } : {}),
    policy: { name: entry.policy.name, version: entry.policy.version, hash: entry.policy.hash },
    ...(entry.approval === undefined
      ? {}
      : {
          approval: {
            approver: entry.approval.approver,
            channel: entry.approval.channel,
            decision: entry.approval.decision,
            latency_ms: entry.approval.latency_ms,
          },
        }),
    ...(entry.call_id === undefined ? {} : { call_id: entry.call_id }),
    ...(entry.upstream === undefined
      ? {}
      : {
          upstream: {
            ok: entry.upstream.ok,
            ...(entry.upstream.error === undefined
              ? {}
              : { error: redactor.text(entry.upstream.error) }),
            duration_ms: entry.upstream.duration_ms,
          },
        }),
  };
  return event;
}

/** Distinct reasons a memo keeps before it starts over, and the longest it keeps. */
const REASON_MEMO_SIZE = 256;
const REASON_MEMO_CHARS = 1024;

/**
 * `text` remembered for short inputs. Reasons come from policies: a few texts over and over,
 * each run through every secret pattern once instead of once per record.
 */
function memoized(text: (input: string) => string): (input: string) => string {
  const memo = new Map<string, string>();
  return (input) => {
    if (input.length > REASON_MEMO_CHARS) return text(input);
    let output = memo.get(input);
    if (output === undefined) {
      output = text(input);
      if (memo.size >= REASON_MEMO_SIZE) memo.clear();
      memo.set(input, output);
    }
    return output;
  };
}

let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * `date.toISOString()`, formatting the date only when the second changes: a record per call
 * would otherwise format the same date and time thousands of times a second.
 */
export function isoTimestamp(date: Date): string {
  const ms = date.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = date.toISOString();
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`; years past 9999 are written longer and never cached.
    if (iso.length !== 24) return iso;
    isoSecond = second;
    isoPrefix = iso.slice(0, 20);
    return iso;
  }
  const millis = ms - second * 1000;
  return `${isoPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}
