import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import type { AuditEvent } from './event.js';

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
  return createHash('sha256')
    .update(prevHash + canonicalJson(covered), 'utf8')
    .digest('hex');
}

/** Links an event after `prevHash`. */
export function linkEvent(prevHash: string, event: UnlinkedEvent): AuditEvent {
  const hash = hashRecord({ ...event, prev_hash: prevHash });
  // A fixed point of SHA-256 will not happen, but a bug that copies one field into the other
  // would make every later link meaningless; refuse it loudly.
  if (hash === prevHash) throw new Error('audit chain: a record cannot be its own predecessor');
  return { ...event, prev_hash: prevHash, hash };
}

/** The line a record is stored as (without its newline): its canonical JSON, `hash` included. */
export function serializeEvent(event: AuditEvent): string {
  return canonicalJson(event);
}
