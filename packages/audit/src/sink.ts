import type { AuditEntry } from './event.js';

/**
 * Where audit records go. `write` resolves only once the record is durably accepted (for a file:
 * written and fsynced), so a caller that waits for it before forwarding a call never forwards an
 * unrecorded call. Records keep the order of `write` calls. An entry a sink cannot record (not
 * JSON) rejects alone; a sink that cannot tell what reached storage rejects every later write.
 */
export interface AuditSink {
  write(entry: AuditEntry): Promise<void>;
  /** Waits for pending writes, then releases the sink; later writes reject. Idempotent. */
  close(): Promise<void>;
}
