import * as crypto from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';

/**
 * Lower-case hex SHA-256 of UTF-8 text. `crypto.hash` (Node 20.12+) is the one-shot form, about
 * three times faster than a Hash object for records this small; older 20.x lines lack it.
 */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** The `prev_hash` of the first record of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

/** An event before it is linked: everything but `prev_hash` and `hash`. */
export type UnlinkedEvent = Omit<AuditEvent, 'prev_hash' | 'hash'>;

/**
 * `sha256(prev_hash + canonical(record without hash))`, lower-case hex. `record` may still hold
 * a `hash` member (a record read back); it is left out. Taking `prev_hash` from the record itself
 * means a verifier needs nothing but the line.
 */
export function hashRecord(record: object): string {
  const { hash: _ignored, ...covered } = record as Readonly<Record<string, unknown>>;
  const prevHash = typeof covered.prev_hash === 'string' ? covered.prev_hash : '';
  return sha256(prevHash + canonicalJson(covered));
}

/** Links an event after `prevHash`. */
export function linkEvent(prevHash: string, event: UnlinkedEvent): AuditEvent {
  return { ...event, prev_hash: prevHash, hash: linkAndSerialize(prevHash, event).hash };
}

/**
 * Links an event after `prevHash` and returns its hash and the line it is stored as: the same
 * text as `serializeEvent(linkEvent(prevHash, event))`, without building the linked event. The
 * top level is written member by member in canonical (sorted) key order, which is fixed for an
 * event, instead of sorting a copy: this runs once per audited call. `hash` goes
 * just before `id`.
 */
export function linkAndSerialize(
  prevHash: string,
  event: UnlinkedEvent,
): { readonly line: string; readonly hash: string } {
  let head = `{"action_type":${text(event.action_type, 'action_type')},"agent_id":${text(event.agent_id, 'agent_id')}`;
  if (event.approval !== undefined) head += `,"approval":${canonicalJson(event.approval)}`;
  if (event.call_id !== undefined) head += `,"call_id":${text(event.call_id, 'call_id')}`;
  let tail = `"id":${text(event.id, 'id')},"matched_rule":${text(event.matched_rule, 'matched_rule')},"outcome":${text(event.outcome, 'outcome')}`;
  if (event.parameters !== undefined) tail += `,"parameters":${canonicalJson(event.parameters)}`;
  tail += `,"policy":${policyJson(event.policy)},"prev_hash":${text(prevHash, 'prev_hash')}`;
  if (event.reason !== undefined) tail += `,"reason":${text(event.reason, 'reason')}`;
  tail += `,"resource":${text(event.resource, 'resource')},"server":${text(event.server, 'server')}`;
  tail += `,"session":${text(event.session, 'session')}`;
  if (event.shadow !== undefined) tail += `,"shadow":${canonicalJson(event.shadow)}`;
  tail += `,"timestamp":${text(event.timestamp, 'timestamp')}`;
  if (event.upstream !== undefined) tail += `,"upstream":${canonicalJson(event.upstream)}`;
  tail += '}';
  const hash = sha256(`${prevHash}${head},${tail}`);
  // A fixed point of SHA-256 will not happen, but a bug that copies one field into the other
  // would make every later link meaningless; refuse it loudly.
  if (hash === prevHash) throw new Error('audit chain: a record cannot be its own predecessor');
  // Plain data, no getter: an object literal with an accessor, made once per record, kept
  // scavenges from freeing records (measured: half the sink's time went to GC).
  return { line: `${head},"hash":"${hash}",${tail}`, hash };
}

/** The policy last written, and its text: a log's records name the same policy for hours. */
let lastPolicy:
  | {
      readonly name: string;
      readonly version: string;
      readonly hash: string;
      readonly json: string;
    }
  | undefined;

/** `canonicalJson(policy)`, remembered for the last policy of the usual three-string shape. */
function policyJson(policy: UnlinkedEvent['policy']): string {
  const { name, version, hash } = policy;
  // Only the usual shape is remembered: three members, all strings (JavaScript callers can
  // pass more, which are written too).
  const usual = Object.keys(policy).length === 3;
  if (
    usual &&
    lastPolicy !== undefined &&
    lastPolicy.name === name &&
    lastPolicy.version === version &&
    lastPolicy.hash === hash
  ) {
    return lastPolicy.json;
  }
  const json = canonicalJson(policy);
  if (
    usual &&
    typeof name === 'string' &&
    typeof version === 'string' &&
    typeof hash === 'string'
  ) {
    lastPolicy = { name, version, hash, json };
  }
  return json;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new AuditError('invalid_input', `an audit record's '${field}' must be a string`);
  }
  return JSON.stringify(value);
}

/** The line a record is stored as (without its newline): its canonical JSON, `hash` included. */
export function serializeEvent(event: AuditEvent): string {
  return canonicalJson(event);
}
