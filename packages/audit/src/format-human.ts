import type { AuditApproval, AuditEvent, AuditOutcome } from './event.js';
import type { AuditRecord } from './records.js';

interface Label {
  readonly text: string;
  readonly color: string;
}

const LABELS: Readonly<Record<AuditOutcome, Label>> = {
  allowed: { text: 'ALLOW   ', color: '32' },
  denied: { text: 'DENY    ', color: '31' },
  pending_approval: { text: 'APPROVAL', color: '33' },
};

// A result record repeats its call's outcome; its label says it is the server's answer instead,
// so a tail does not read as two decisions for one call.
const RESULT_OK: Label = { text: 'RESULT  ', color: '32' };
const RESULT_ERROR: Label = { text: 'RESULT  ', color: '31' };

// Tool names, reasons and errors come from clients and servers: a newline would forge a second
// line, an escape sequence would rewrite the terminal, a bidi override would reorder what is read.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const HAS_UNSAFE = new RegExp(UNSAFE.source);

/**
 * Characters that show nothing but are there: soft hyphen, zero-width spaces and joiners, word
 * joiners and invisible operators, the byte order mark, interlinear annotation and tag characters.
 */
const INVISIBLE =
  /[\u00ad\u180e\u200b-\u200d\u2060-\u206f\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;

/**
 * `safeText`, with invisible characters escaped too: for what a person is asked to approve, where
 * what is read must be all there is. Code unit by code unit: a tag character (a surrogate pair)
 * is shown as two escapes.
 */
export function visibleText(text: string): string {
  return safeText(text).replace(INVISIBLE, (found) =>
    found
      .split('')
      .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join(''),
  );
}

export function safeText(text: string): string {
  // Most text needs nothing: ask before `replace` builds a new string.
  if (!HAS_UNSAFE.test(text)) return text;
  return text.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The fields the human format shows; Rust-era records have no `server`. */
export type HumanFields = Pick<
  AuditEvent,
  | 'timestamp'
  | 'outcome'
  | 'resource'
  | 'agent_id'
  | 'matched_rule'
  | 'reason'
  | 'approval'
  | 'upstream'
  | 'shadow'
> & { readonly server?: string | undefined; readonly action_type?: string | undefined };

/**
 * One line (no newline) for a person watching decisions go by. A result record (with `upstream`)
 * is labelled `RESULT`, green when the server answered and red when it failed.
 */
export function formatHuman(event: HumanFields, color: boolean): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const label =
    event.upstream === undefined
      ? LABELS[event.outcome]
      : event.upstream.ok
        ? RESULT_OK
        : RESULT_ERROR;
  // A message refused unread names no resource: its action type (`unreadable`) says what it was.
  const resource =
    event.resource === '' && event.action_type !== undefined
      ? `(${event.action_type})`
      : event.resource;
  const parts = [
    paint('2', event.timestamp),
    paint(label.color, label.text),
    safeText(event.server === undefined ? resource : `${event.server}/${resource}`),
    `agent=${safeText(event.agent_id)}`,
    `rule=${safeText(event.matched_rule)}`,
  ];
  if (event.reason !== undefined) parts.push(`— ${safeText(event.reason)}`);
  if (event.shadow === true) parts.push('[shadow: not enforced]');
  const { approval, upstream } = event;
  if (approval !== undefined) {
    parts.push(
      `[approval ${approval.decision} by ${safeText(approval.approver)} via ${safeText(approval.channel)}, ${approval.latency_ms}ms]`,
    );
  }
  if (upstream !== undefined) {
    const result = upstream.ok ? 'ok' : `error: ${safeText(upstream.error ?? 'unknown')}`;
    parts.push(`[upstream ${result}, ${upstream.duration_ms}ms]`);
  }
  return parts.join('  ');
}

/**
 * A record read leniently (any Kvlar version) in the human format; an odd `approval` or `shadow`
 * is left out (the reader has already refused an odd `upstream`).
 */
export function formatRecordHuman(record: AuditRecord, color: boolean): string {
  const approval = field(record, 'approval');
  return formatHuman(
    {
      ...record,
      ...(isApproval(approval) ? { approval } : {}),
      // A shadow-mode result of a denied call must say the denial was not enforced.
      ...(field(record, 'shadow') === true ? { shadow: true } : {}),
    },
    color,
  );
}

function field(record: AuditRecord, name: string): unknown {
  return Object.hasOwn(record.fields, name) ? record.fields[name] : undefined;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DECISIONS: ReadonlySet<string> = new Set(['approved', 'denied', 'timeout', 'error']);

function isApproval(value: unknown): value is AuditApproval {
  return (
    isObject(value) &&
    typeof value.approver === 'string' &&
    typeof value.channel === 'string' &&
    DECISIONS.has(String(value.decision)) &&
    typeof value.latency_ms === 'number'
  );
}
