// The marker @kvlar/core's KvlarError uses: `KvlarError.isInstance` recognises these too, so one
// error boundary (the CLI's, an embedder's) handles every Kvlar error without a runtime import.
const marker = Symbol.for('@kvlar/error');

/** String codes for the errors of @kvlar/audit. */
export type AuditErrorCode =
  /** An entry holds something JSON cannot represent (a function, a bigint, NaN, a cycle…). */
  | 'invalid_input'
  /** `write` after `close`. */
  | 'audit_sink_closed'
  /** The sink could not make a record durable; it accepts nothing more (see docs/audit.md). */
  | 'audit_write_failed'
  /** The log ends in an incomplete line (a crash or a full disk cut a write short). */
  | 'audit_torn_line'
  /** The log's last record is not a valid link of a hash chain, so it cannot be extended. */
  | 'audit_chain_broken'
  /** Another live process is writing the log (its `FILE.lock`). */
  | 'audit_locked'
  /** The HTTP sink's collector refused a batch for good (a 4xx other than 408 and 429). */
  | 'audit_collector_rejected';

/**
 * The error class of @kvlar/audit: a KvlarError in all but prototype (string code, `cause`, the
 * shared marker). A class of its own because audit imports only *types* from core.
 */
export class AuditError extends Error {
  readonly [marker] = true;
  readonly code: AuditErrorCode;

  constructor(code: AuditErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditError';
    this.code = code;
  }

  static isInstance(value: unknown): value is AuditError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

export function sinkClosedError(): AuditError {
  return new AuditError('audit_sink_closed', 'the audit sink is closed');
}
