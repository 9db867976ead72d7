import { PassThrough, Writable } from 'node:stream';
import { createEngine, parsePolicy } from '@kvlar/core';
import { type Frame, LineSplitter } from '@kvlar/proxy';
import { describe, expect, it } from 'vitest';
import { answerLine, answerOversize, type ServeContext } from './serve-protocol.js';
import { serveStdio } from './serve-stdio.js';

const parsed = parsePolicy(`name: p
version: "1"
rules:
  - id: deny-shell
    match_on: { resources: [bash] }
    effect: { type: deny, reason: no shell }
  - id: allow-rest
    match_on: {}
    effect: { type: allow }
`);
if (!parsed.ok) throw new Error('test policy');
const engine = createEngine([parsed.policy]);
const context: ServeContext = { engine: () => engine, info: () => ({ protocol: 1 }) };

function framesOf(chunks: readonly string[], maxBytes = 64): Frame[] {
  const reader = new LineSplitter(maxBytes);
  const frames: Frame[] = [];
  for (const chunk of chunks) frames.push(...reader.push(Buffer.from(chunk)));
  frames.push(...reader.end());
  return frames;
}

describe('serve framing, by the LineSplitter of the proxy', () => {
  it('joins a line split over chunks, drops a trailing CR, and skips blank lines', () => {
    const frames = framesOf(['{"a"', ':1}\r', '\n\n  \n{"b":2}']);
    expect(frames.map((frame) => (frame.kind === 'line' ? frame.bytes.toString() : frame))).toEqual(
      ['{"a":1}', '{"b":2}'],
    );
  });

  it('turns a line over the limit into one oversize frame, however it is chunked', () => {
    const long = `{"id":7,"x":"${'y'.repeat(200)}"}`;
    for (const size of [1, 10, 63, 64, 65, 500]) {
      const chunks: string[] = [];
      const text = `${long}\n{"id":8}\n`;
      for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
      const frames = framesOf(chunks);
      expect(frames).toHaveLength(2);
      expect(frames[0]).toMatchObject({ kind: 'oversize', bytes: long.length });
      expect(frames[1]).toMatchObject({ kind: 'line' });
      expect(answerOversize(frames[0] as Extract<Frame, { kind: 'oversize' }>, 64)).toBe(
        `{"id":7,"error":{"code":"too_large","message":"the line has ${long.length} bytes, more than the limit of 64"}}`,
      );
    }
  });
});

describe('answerLine', () => {
  const answer = (text: string) => JSON.parse(answerLine(Buffer.from(text), context));

  it('decides with the engine of the moment', () => {
    expect(answer('{"id":1,"tool":"bash"}')).toEqual({
      id: 1,
      decision: 'deny',
      rule_id: 'deny-shell',
      reason: 'no shell',
      policy: 'p',
    });
  });

  it('looks names up as own properties', () => {
    expect(answer('{"__proto__":{"tool":"x"}}').error.message).toBe('unknown key "__proto__"');
    expect(answer('{"tool":"constructor","arguments":{"__proto__":1}}').decision).toBe('allow');
  });

  it('sniffs the id of a line that is not JSON only when it is unambiguous', () => {
    expect(answer('{"id": "a", oops').id).toBe('a');
    expect(answer('{"id": 1, "x": {"id": 2}, oops').id).toBeNull();
    expect(answer('{"id": 123456789012345678901, oops').id).toBeNull();
  });
});

describe('serveStdio', () => {
  it('pauses its input while the output is full, then answers everything in order', async () => {
    const input = new PassThrough();
    const written: string[] = [];
    let release: (() => void) | undefined;
    const output = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk.toString());
        // Holds the first write until released: the buffer fills, and input must pause.
        if (release === undefined && written.length === 1) release = callback;
        else callback();
      },
    });
    const done = serveStdio({
      input,
      output,
      maxLineBytes: 1024,
      answer: (frame) =>
        frame.kind === 'line' ? answerLine(frame.bytes, context) : answerOversize(frame, 1024),
    });
    for (let id = 0; id < 200; id++) input.write(`{"id":${id},"tool":"bash"}\n`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(input.isPaused()).toBe(true);
    release?.();
    input.end();
    expect(await done).toBe('input_ended');
    const ids = written
      .join('')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line).id);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, id) => id));
  });
});
