import type { DecisionType } from '@kvlar/core';

/** The Rust Kvlar's outcome names, kept so its files still export and stat. */
export type AuditOutcome = 'allowed' | 'denied' | 'pending_approval';

/** The policy set in force when the decision was taken. */
export interface AuditPolicy {
  readonly name: string;
  readonly version: string;
  /** Hex SHA-256 the proxy computes over the loaded policy texts: which exact text decided. */
  readonly hash: string;
}

/** How a human (or a system) answered a `require_approval` decision. */
export interface AuditApproval {
  /** Who answered, as the approver reports it (a user name, a webhook URL's host…). */
  readonly approver: string;
  /** Through what: `webhook`, `terminal`, `admin_http`… */
  readonly channel: string;
  readonly decision: 'approved' | 'denied' | 'timeout' | 'error';
  readonly latency_ms: number;
}

/** What the MCP server answered to a forwarded call. */
export interface AuditUpstream {
  readonly ok: boolean;
  /** The error message, after value redaction. */
  readonly error?: string;
  readonly duration_ms: number;
}

/**
 * One audit record: a superset of the Rust Kvlar's record (same field names, snake_case),
 * plus the chain fields. `prev_hash` and `hash` are lower-case hex SHA-256 (docs/audit.md).
 */
export interface AuditEvent {
  readonly id: string;
  /** RFC 3339, UTC, millisecond precision when Kvlar writes it. */
  readonly timestamp: string;
  readonly action_type: string;
  /** The tool name (or resource URI, prompt name) acted on. */
  readonly resource: string;
  readonly agent_id: string;
  readonly outcome: AuditOutcome;
  readonly matched_rule: string;
  readonly reason?: string;
  /** The call's arguments, redacted (docs/audit.md, "Redaction"). */
  readonly parameters?: unknown;
  /** The client session (one MCP connection). */
  readonly session: string;
  /** The MCP server's name. */
  readonly server: string;
  /**
   * Set (true) when the proxy ran in shadow mode (`--mode audit`): the decision was taken and
   * recorded but not enforced, so a denied call was forwarded all the same.
   */
  readonly shadow?: true;
  readonly policy: AuditPolicy;
  readonly approval?: AuditApproval;
  /**
   * On a record that follows up a call (an approver's answer, the server's result): the `id` of
   * the call's first record, the one written when it was decided.
   */
  readonly call_id?: string;
  readonly upstream?: AuditUpstream;
  readonly prev_hash: string;
  readonly hash: string;
}

/**
 * What a caller hands to `AuditSink.write`: the event without its chain fields. The sink fills
 * `id` and `timestamp` from its injected generator and clock when they are absent.
 */
export type AuditEntry = Omit<AuditEvent, 'id' | 'timestamp' | 'prev_hash' | 'hash'> & {
  readonly id?: string;
  readonly timestamp?: string;
};

const OUTCOMES: Readonly<Record<DecisionType, AuditOutcome>> = {
  allow: 'allowed',
  deny: 'denied',
  require_approval: 'pending_approval',
};

/** The record's outcome for an engine decision (before any approval changed it). */
export function outcomeOf(decision: DecisionType): AuditOutcome {
  return OUTCOMES[decision];
}
