import { AuditError, sinkClosedError } from './errors.js';
import { formatHuman } from './format-human.js';
import { createRecorder, type RecordOptions } from './record.js';
import type { AuditSink } from './sink.js';

/** The part of a Node.js writable stream the sink uses; `process.stderr` is one. */
export interface TextStream {
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
  readonly isTTY?: boolean;
}

export interface StderrSinkOptions extends RecordOptions {
  /** `human`: one coloured line per decision; `json`: the records as a JSONL file holds them. */
  readonly format?: 'human' | 'json';
  /** Default `process.stderr`: in proxy mode stdout belongs to JSON-RPC. */
  readonly stream?: TextStream;
  /** Default: whether the stream is a terminal. The CLI decides about `NO_COLOR`. */
  readonly color?: boolean;
}

/** One line per decision on stderr (or another stream); `write` resolves once the stream took it. */
export function createStderrSink(options: StderrSinkOptions = {}): AuditSink {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'human';
  const color = options.color ?? stream.isTTY === true;
  const recorder = createRecorder(options);
  const pending = new Set<Promise<void>>();
  let closed = false;
  let failure: AuditError | undefined;

  // Records written in one tick leave in one write (one syscall), in order.
  let batch:
    | { lines: string[]; waiting: { resolve(): void; reject(error: unknown): void }[] }
    | undefined;
  const flush = () => {
    const current = batch;
    batch = undefined;
    if (current === undefined) return;
    stream.write(current.lines.join(''), (error) => {
      if (error === undefined || error === null) {
        for (const waiter of current.waiting) waiter.resolve();
        return;
      }
      failure ??= new AuditError('audit_write_failed', 'the audit stream failed', {
        cause: error,
      });
      for (const waiter of current.waiting) waiter.reject(failure);
    });
  };
  const send = (line: string) =>
    new Promise<void>((resolve, reject) => {
      if (batch === undefined) {
        batch = { lines: [], waiting: [] };
        process.nextTick(flush);
      }
      batch.lines.push(`${line}\n`);
      batch.waiting.push({ resolve, reject });
    });

  return {
    write(entry) {
      if (closed) return Promise.reject(sinkClosedError());
      if (failure !== undefined) return Promise.reject(failure);
      let line: string;
      try {
        line =
          format === 'json'
            ? recorder.record(entry).line
            : formatHuman(recorder.describe(entry), color);
      } catch (error) {
        return Promise.reject(error);
      }
      const sent = send(line);
      pending.add(sent);
      const forget = () => pending.delete(sent);
      sent.then(forget, forget);
      return sent;
    },
    async close() {
      closed = true;
      await Promise.allSettled(pending);
    },
  };
}
