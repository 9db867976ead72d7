/**
 * The `kvlar serve --stdio` loop: read lines as they come, answer each in order, and write the
 * answers to one chunk of input with one `write`. Evaluation is synchronous, so a chunk's answers
 * are ready together; when the reader falls behind (`write` returns false) input pauses until
 * `drain`, so a client that pipelines without reading cannot make the process grow.
 */
import type { Readable, Writable } from 'node:stream';
import { type Frame, LineSplitter } from '@kvlar/proxy';

export interface ServeStdioOptions {
  readonly input: Readable;
  readonly output: Writable;
  readonly maxLineBytes: number;
  /** The answer to a frame, as one line of JSON without its newline. Must not throw. */
  readonly answer: (frame: Frame) => string;
}

/** How the session ended: the input ended (every answer flushed), or the output broke. */
export type ServeEnd = 'input_ended' | 'output_closed';

export function serveStdio(options: ServeStdioOptions): Promise<ServeEnd> {
  const { input, output, answer } = options;
  const reader = new LineSplitter(options.maxLineBytes);
  let frames: Frame[] = [];
  let waiting = false;
  let ended = false;

  return new Promise((resolve) => {
    const finish = (end: ServeEnd): void => {
      if (ended) return;
      ended = true;
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onInputError);
      output.off('drain', onDrain);
      // Nothing more will be read; let the process end even if the client keeps stdin open.
      input.pause();
      resolve(end);
    };

    const flush = (): void => {
      if (frames.length === 0) return;
      let text = '';
      for (const frame of frames) text += `${answer(frame)}\n`;
      frames = [];
      if (!output.write(text) && !waiting) {
        waiting = true;
        input.pause();
      }
    };

    const onData = (chunk: Buffer): void => {
      frames = reader.push(chunk);
      flush();
    };
    const onDrain = (): void => {
      if (!waiting) return;
      waiting = false;
      if (!ended) input.resume();
    };
    const onEnd = (): void => {
      frames = reader.end();
      flush();
      // The callback runs once everything written so far has been handed to the OS.
      output.write('', () => finish('input_ended'));
    };
    const onInputError = (): void => finish('input_ended');
    const onOutputError = (): void => finish('output_closed');

    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onInputError);
    output.on('drain', onDrain);
    // Stays attached: a late EPIPE on a stream without an 'error' listener would crash.
    output.on('error', onOutputError);
  });
}
