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
  let closed = false;
  let failure: AuditError | undefined;

  // Records written in one tick leave in one write (one syscall), in order, and share the
  // promise of that write.
  let batch: { lines: string[]; done: Promise<void> } | undefined;
  let settleBatch: (error?: AuditError) => void = () => {};
  /** The latest batch's write, settled or not: what `close` waits for. */
  let lastWrite: Promise<void> = Promise.resolve();
  const flush = () => {
    const current = batch;
    const settle = settleBatch;
    batch = undefined;
    if (current === undefined) return;
    const text = current.lines.length === 1 ? (current.lines[0] as string) : current.lines.join('');
    stream.write(text, (error) => {
      if (error === undefined || error === null) {
        settle();
        return;
      }
      failure ??= new AuditError('audit_write_failed', 'the audit stream failed', {
        cause: error,
      });
      settle(failure);
    });
  };
  const send = (line: string): Promise<void> => {
    if (batch === undefined) {
      const done = new Promise<void>((resolve, reject) => {
        settleBatch = (error) => (error === undefined ? resolve() : reject(error));
      });
      batch = { lines: [], done };
      lastWrite = done.catch(() => {});
      process.nextTick(flush);
    }
    batch.lines.push(`${line}\n`);
    return batch.done;
  };

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
      return send(line);
    },
    async close() {
      closed = true;
      await lastWrite;
    },
  };
}
