import { sinkClosedError } from './errors.js';
import type { AuditEvent } from './event.js';
import { createRecorder, type RecordOptions } from './record.js';
import type { AuditSink } from './sink.js';

export interface MemorySink extends AuditSink {
  /** Every record written so far, linked like a file's. */
  readonly events: readonly AuditEvent[];
}

/** Keeps records in memory: for tests and for embedders who ship records elsewhere. */
export function createMemorySink(options: RecordOptions = {}): MemorySink {
  const recorder = createRecorder(options);
  const events: AuditEvent[] = [];
  let closed = false;
  return {
    events,
    write(entry) {
      if (closed) return Promise.reject(sinkClosedError());
      try {
        events.push(recorder.recordEvent(entry).event);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}
