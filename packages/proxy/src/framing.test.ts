import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSettings } from '../test/fuzz-runs.js';
import { countWork } from '../test/work-count.js';
import {
  type CutFrame,
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeError,
  decodeMessage,
  type Frame,
  FrameError,
  firstInvalidUtf8Offset,
  LineCutter,
  LineSplitter,
  MAX_NESTING_DEPTH,
  oversizeError,
  serializeMessage,
  sniffId,
} from './framing.js';

/** The frames of `text` pushed in the given pieces, then ended. */
function split(pieces: readonly string[], maxBytes?: number): Frame[] {
  const splitter = new LineSplitter(maxBytes);
  const frames = pieces.flatMap((piece) => splitter.push(Buffer.from(piece)));
  return [...frames, ...splitter.end()];
}

function lines(frames: readonly CutFrame[]): string[] {
  return frames.map((frame) =>
    frame.kind === 'oversize'
      ? `<oversize ${frame.bytes}>`
      : (frame.kind === 'parts' ? frame.bytes.join() : frame.bytes).toString('utf8'),
  );
}

function decode(text: string | Buffer, maxDepth?: number) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return decodeMessage(bytes, {
    trackDuplicateKeys: true,
    ...(maxDepth === undefined ? {} : { maxDepth }),
  });
}

function duplicatesOf(text: string) {
  const result = decode(text);
  if (!result.ok) throw new Error(result.message);
  return result.duplicateKeys;
}

describe('LineSplitter', () => {
  it('joins a line split across chunk boundaries', () => {
    expect(lines(split(['{"a":', '1}\n{"b"', ':2}', '\n']))).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('gives several lines of one chunk in order', () => {
    expect(lines(split(['1\n2\n3\n']))).toEqual(['1', '2', '3']);
  });

  it('strips the \\r of a CRLF line ending, even when the \\n comes in the next chunk', () => {
    expect(lines(split(['{"a":1}\r\n{"b":2}\r', '\n']))).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('skips empty and whitespace-only lines', () => {
    expect(lines(split(['\n\n  \t\n\r\n1\n \r\n', '   ', '\n2\n']))).toEqual(['1', '2']);
  });

  it('keeps whitespace inside a line', () => {
    expect(lines(split([' {"a": 1} \n']))).toEqual([' {"a": 1} ']);
  });

  it('flushes a final unterminated line at the end', () => {
    expect(lines(split(['1\n{"last"', ':true}']))).toEqual(['1', '{"last":true}']);
  });

  it('flushes nothing for a final blank partial line', () => {
    expect(lines(split(['1\n  ']))).toEqual(['1']);
  });

  it('gives a line within one chunk as a view of that chunk, without copying', () => {
    const chunk = Buffer.from('{"a":1}\n');
    const [frame] = new LineSplitter().push(chunk);
    expect(frame?.kind).toBe('line');
    expect(frame?.kind === 'line' && frame.bytes.buffer).toBe(chunk.buffer);
  });

  it('accepts a line of exactly maxBytes', () => {
    expect(lines(split(['12345\n'], 5))).toEqual(['12345']);
    expect(lines(split(['123456\n1\n'], 5))).toEqual(['<oversize 6>', '1']);
  });

  it('turns an oversize line into one frame and goes on with the next line', () => {
    const big = `{"id":7,"data":"${'x'.repeat(10_000)}"}`;
    const frames = split([big.slice(0, 3000), big.slice(3000), '\r\n{"ok":1}\n'], 1000);
    expect(frames).toHaveLength(2);
    const [oversize, next] = frames;
    expect(oversize?.kind).toBe('oversize');
    if (oversize?.kind !== 'oversize') return;
    expect(oversize.bytes).toBe(big.length);
    expect(oversize.head.toString()).toBe(big.slice(0, 512));
    expect(oversize.tail.toString()).toBe(big.slice(-512));
    expect(next?.kind === 'line' && next.bytes.toString()).toBe('{"ok":1}');
  });

  it('reports an oversize final line at the end', () => {
    expect(lines(split(['1\n', 'x'.repeat(30), 'y'.repeat(30)], 50))).toEqual([
      '1',
      '<oversize 60>',
    ]);
  });

  it('keeps at most maxBytes of a line in memory while an oversize line streams by', () => {
    const maxBytes = 100_000;
    const chunkSize = 64 * 1024;
    const splitter = new LineSplitter(maxBytes);
    const chunk = Buffer.alloc(chunkSize, 'a');
    let peak = 0;
    for (let i = 0; i < 200; i++) {
      expect(splitter.push(chunk)).toEqual([]);
      peak = Math.max(peak, splitter.bufferedBytes);
    }
    const frames = splitter.push(Buffer.from('a\n{"next":1}\n'));
    expect(peak).toBeLessThanOrEqual(maxBytes + chunkSize);
    expect(frames.map((frame) => frame.kind)).toEqual(['oversize', 'line']);
    expect(frames[0]?.kind === 'oversize' && frames[0].bytes).toBe(200 * chunkSize + 1);
    expect(frames[0]?.kind === 'oversize' && frames[0].tail.length).toBe(512);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('assembles a 5 MB line from 64 KB chunks in linear time', () => {
    const line = Buffer.alloc(5 * 1024 * 1024, 'b');
    const splitter = new LineSplitter();
    const pushed: Frame[][] = [];
    const work = countWork(() => {
      for (let offset = 0; offset < line.length; offset += 64 * 1024) {
        pushed.push(splitter.push(line.subarray(offset, offset + 64 * 1024)));
      }
      pushed.push(splitter.push(Buffer.from('\n')));
    });
    // Each byte is searched for a newline once and joined once: a join or a search of what is
    // buffered per chunk would touch 80 × 2.5 MB on average.
    expect(work.bytesSearched).toBe(line.length + 1);
    expect(work.bytesJoined).toBe(line.length);
    expect(pushed.slice(0, -1).every((frames) => frames.length === 0)).toBe(true);
    const [frame] = pushed.at(-1) ?? [];
    expect(frame?.kind === 'line' && frame.bytes.equals(line)).toBe(true);
  });

  it('gives a long line that came in several reads as those reads, unjoined, with partsFrom', () => {
    const reads = [Buffer.from('{"result":"'), Buffer.from('x'.repeat(20)), Buffer.from('"}\n1\n')];
    const frames = new LineCutter(1000, { partsFrom: 16 }).push(reads[0] as Buffer);
    expect(frames).toEqual([]);
    const splitter = new LineCutter(1000, { partsFrom: 16 });
    const out = reads.flatMap((read) => splitter.push(read));
    expect(out.map((frame) => frame.kind)).toEqual(['parts', 'line']);
    const [parts] = out;
    if (parts?.kind !== 'parts') return;
    // The reads' own memory, not copies; the last one up to its newline.
    const where = (bytes: Buffer) => [bytes.buffer, bytes.byteOffset, bytes.length];
    expect(parts.bytes.parts.map(where)).toEqual(
      reads.map((read, index) => where(index === 2 ? read.subarray(0, 2) : read)),
    );
    expect(parts.bytes.join().toString()).toBe(`{"result":"${'x'.repeat(20)}"}`);
  });

  it('joins, with partsFrom, a line shorter than it or within one read', () => {
    const splitter = new LineCutter(1000, { partsFrom: 16 });
    expect(
      lines(
        ['{"a":', '1}\n', `"${'y'.repeat(30)}"\n`].flatMap((c) => splitter.push(Buffer.from(c))),
      ),
    ).toEqual(['{"a":1}', `"${'y'.repeat(30)}"`]);
  });

  it('strips a trailing \\r from the parts, wherever the reads cut', () => {
    const line = `{"result":"${'z'.repeat(20)}"}`;
    for (const reads of [
      [line.slice(0, 5), `${line.slice(5)}\r`, '\n'],
      [line.slice(0, 5), line.slice(5), '\r\n'],
      [line.slice(0, 5), line.slice(5), '\r', '\n'],
    ]) {
      const splitter = new LineCutter(1000, { partsFrom: 16 });
      const [frame] = reads.flatMap((read) => splitter.push(Buffer.from(read)));
      expect(frame?.kind === 'parts' && frame.bytes.join().toString()).toBe(line);
    }
  });

  it('skips a long blank line that came in parts, and still refuses an oversize one', () => {
    const splitter = new LineCutter(100, { partsFrom: 16 });
    const frames = [' '.repeat(20), ' \t\r\n', 'x'.repeat(90), 'x'.repeat(20), '\n'].flatMap(
      (read) => splitter.push(Buffer.from(read)),
    );
    expect(frames.map((frame) => frame.kind)).toEqual(['oversize']);
    expect(() => new LineCutter(100, { partsFrom: 0 })).toThrow(RangeError);
  });

  it('gives back the same lines with partsFrom however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (texts, cuts) => {
          // Lines without line breaks; the blank ones are skipped by the splitter.
          const sent = texts.map((text) => text.replace(/[\r\n]/g, ''));
          const stream = Buffer.from(sent.map((text) => `${text}\n`).join(''));
          const offsets = [...new Set(cuts.map((at) => at % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const splitter = new LineCutter(1000, { partsFrom: 8 });
          const frames: CutFrame[] = [];
          let previous = 0;
          for (const offset of [...offsets, stream.length]) {
            frames.push(...splitter.push(stream.subarray(previous, offset)));
            previous = offset;
          }
          const got = frames.map((frame) => {
            if (frame.kind === 'oversize') throw new Error('unexpected oversize frame');
            return (frame.kind === 'parts' ? frame.bytes.join() : frame.bytes).toString();
          });
          expect(got).toEqual(sent.filter((text) => !/^[ \t]*$/.test(text)));
        },
      ),
      fuzzSettings(20261207, 300),
    );
  });

  it('defaults to a 32 MiB limit and refuses a nonsensical one', () => {
    expect(new LineSplitter().maxBytes).toBe(DEFAULT_MAX_MESSAGE_BYTES);
    expect(DEFAULT_MAX_MESSAGE_BYTES).toBe(32 * 1024 * 1024);
    expect(() => new LineSplitter(0)).toThrow(RangeError);
  });

  it('gives back the same messages in order however the stream is chunked', () => {
    const json = fc.jsonValue().map((value) => serializeMessage(value));
    fc.assert(
      fc.property(
        fc.array(json, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        (messages, cuts, crlf) => {
          const stream = Buffer.from(messages.map((m) => m + (crlf ? '\r\n' : '\n')).join(''));
          const offsets = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const splitter = new LineSplitter();
          const frames: Frame[] = [];
          let previous = 0;
          for (const offset of [...offsets, stream.length]) {
            frames.push(...splitter.push(stream.subarray(previous, offset)));
            previous = offset;
          }
          frames.push(...splitter.end());
          const decoded = frames.map((frame) => {
            if (frame.kind !== 'line') throw new Error('unexpected oversize frame');
            const result = decodeMessage(frame.bytes, { trackDuplicateKeys: true });
            if (!result.ok) throw new Error(result.message);
            return result.value;
          });
          expect(decoded).toEqual(messages.map((m) => JSON.parse(m)));
        },
      ),
      fuzzSettings(20261125, 300),
    );
  });
});

describe('decodeMessage', () => {
  it('decodes a message and keeps its text', () => {
    const text = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"é":"😀"}}';
    expect(decode(text)).toEqual({
      ok: true,
      value: JSON.parse(text),
      text,
      duplicateKeys: [],
    });
  });

  it('decodes any JSON value, not only objects', () => {
    expect(decode('42')).toMatchObject({ ok: true, value: 42 });
    expect(decode('[{"a":1}]')).toMatchObject({ ok: true, value: [{ a: 1 }] });
  });

  it('refuses invalid UTF-8 and names the offset of the bad byte', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"a":"x'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    expect(decode(bytes)).toEqual({
      ok: false,
      kind: 'not_utf8',
      message: 'message is not valid UTF-8 (invalid byte at offset 7)',
    });
  });

  it('refuses overlong encodings, surrogates and truncated sequences as UTF-8', () => {
    for (const bad of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const bytes = Buffer.from([0x22, ...bad, 0x22]);
      expect(decode(bytes)).toMatchObject({ ok: false, kind: 'not_utf8' });
      expect(firstInvalidUtf8Offset(bytes)).toBe(1);
    }
    expect(firstInvalidUtf8Offset(Buffer.from('"€😀"'))).toBe(-1);
  });

  it('reports a parse error with the reason JSON.parse gives', () => {
    const result = decode('{"a":1,}');
    expect(result).toMatchObject({ ok: false, kind: 'parse' });
    expect(!result.ok && result.message).toMatch(/^message is not valid JSON: .*position 7/);
  });

  it('reports a parse error for an unterminated string', () => {
    expect(decode('{"a":"open')).toMatchObject({ ok: false, kind: 'parse' });
    expect(decode('["a\\"]')).toMatchObject({ ok: false, kind: 'parse' });
  });

  it('accepts nesting at the limit of 256 and refuses 257', () => {
    expect(MAX_NESTING_DEPTH).toBe(256);
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(decode(nested(256))).toMatchObject({ ok: true });
    expect(decode(nested(257))).toEqual({
      ok: false,
      kind: 'too_deep',
      message: 'message nests deeper than the limit of 256 levels',
    });
    const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expect(decode(objects(256))).toMatchObject({ ok: true });
    expect(decode(objects(257))).toMatchObject({ ok: false, kind: 'too_deep' });
  });

  it('checks depth without duplicate tracking too', () => {
    const text = `${'['.repeat(300)}${']'.repeat(300)}`;
    const result = decodeMessage(Buffer.from(text), { trackDuplicateKeys: false });
    expect(result).toMatchObject({ ok: false, kind: 'too_deep' });
  });

  it('honours a custom depth limit', () => {
    expect(decode('[[1]]', 2)).toMatchObject({ ok: true });
    expect(decode('[[[1]]]', 2)).toMatchObject({ ok: false, kind: 'too_deep' });
  });

  it('does not count brackets inside strings as nesting', () => {
    const text = `["${'['.repeat(1000)}\\"{{{"]`;
    expect(decode(text)).toMatchObject({ ok: true, value: [`${'['.repeat(1000)}"{{{`] });
  });

  it('refuses a 1,000,000-deep array without a RangeError', () => {
    const depth = 1_000_000;
    const valid = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(decode(valid)).toMatchObject({ ok: false, kind: 'too_deep' });
    expect(decode('['.repeat(depth))).toMatchObject({ ok: false, kind: 'too_deep' });
    expect(() =>
      decodeMessage(Buffer.from(valid), { trackDuplicateKeys: false, maxDepth: 2 * depth }),
    ).not.toThrow();
  });

  it('finds a duplicate key at the top level', () => {
    expect(duplicatesOf('{"method":"a","id":1,"method":"b"}')).toEqual([
      { path: [], key: 'method' },
    ]);
  });

  it('finds a duplicate key nested in arrays and objects, with its path', () => {
    expect(duplicatesOf('[{"a":1},{"params":{"list":[0,{"x":1},{"y":[],"y":2}]}}]')).toEqual([
      { path: [1, 'params', 'list', 2], key: 'y' },
    ]);
  });

  it('finds a duplicate key spelled with escapes', () => {
    expect(duplicatesOf('{"name":"a","n\\u0061me":"b"}')).toEqual([{ path: [], key: 'name' }]);
    expect(duplicatesOf('{"a\\"b":1,"a\\u0022b":2}')).toEqual([{ path: [], key: 'a"b' }]);
  });

  it('finds keys such as __proto__ repeated', () => {
    expect(duplicatesOf('{"__proto__":1,"__proto__":2}')).toEqual([{ path: [], key: '__proto__' }]);
  });

  it('reports no duplicate for the same key in sibling objects', () => {
    expect(duplicatesOf('[{"a":1,"b":{"a":2}},{"a":3},{"b":[{"a":4},{"a":5}]}]')).toEqual([]);
    expect(duplicatesOf('{"x":{"a":1},"y":{"a":1},"z":[{"a":1}]}')).toEqual([]);
  });

  it('takes string values for values, not keys', () => {
    expect(duplicatesOf('{"a":"b","b":"a","c":["a","a"],"d":{"e":"a"}}')).toEqual([]);
  });

  it('tracks the keys of many small objects in linear time', () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => ({ id: i, name: `row ${i}`, ok: true }));
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { rows } });
    let duplicates: unknown;
    const work = countWork(() => {
      duplicates = duplicatesOf(text);
    });
    expect(duplicates).toEqual([]);
    // String bodies are skipped by searching for their closing quote, and each key is sliced
    // once: a search for a backslash from each key to the end of the text read 180,000 × 2 MB.
    expect(work.charsSearched).toBeLessThanOrEqual(2 * text.length);
    expect(work.charsSliced).toBeLessThanOrEqual(text.length);
  });

  it('finds a repeated key in an object with more keys than it compares one by one', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const object = (names: string[]) => `{${names.map((name) => `"${name}":0`).join(',')}}`;
    expect(duplicatesOf(object(keys))).toEqual([]);
    expect(duplicatesOf(object([...keys, 'k0', 'k39']))).toEqual([
      { path: [], key: 'k0' },
      { path: [], key: 'k39' },
    ]);
    // Repeated before the object grew long, and again after.
    expect(duplicatesOf(object(['k3', ...keys]))).toEqual([{ path: [], key: 'k3' }]);
    expect(duplicatesOf(`{"a":${object(keys)},"b":${object(['k5', 'k5'])}}`)).toEqual([
      { path: ['b'], key: 'k5' },
    ]);
  });

  it('finds exactly the repeated key among any number of distinct keys', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 60 }),
        fc.nat(),
        fc.nat(),
        (keys, pick, at) => {
          const repeated = keys[pick % keys.length] as string;
          const names = [...keys];
          names.splice((at % names.length) + 1, 0, repeated);
          const text = `{${names.map((name) => `${JSON.stringify(name)}:[{"x":1}]`).join(',')}}`;
          expect(duplicatesOf(text)).toEqual([{ path: [], key: repeated }]);
          const distinct = `{${keys.map((name) => `${JSON.stringify(name)}:{"x":1}`).join(',')}}`;
          expect(duplicatesOf(distinct)).toEqual([]);
        },
      ),
    );
  });

  it("reports only the message's own repeated keys when tracking the envelope", () => {
    const envelope = (text: string) =>
      decodeMessage(Buffer.from(text), { trackDuplicateKeys: 'envelope' });
    expect(envelope('{"id":1,"result":{"a":1,"a":2},"x":[{"b":1,"b":2}]}')).toMatchObject({
      ok: true,
      duplicateKeys: [],
    });
    expect(envelope('{"id":1,"result":{"a":{"id":1}},"\\u0069d":2,"result":[]}')).toMatchObject({
      ok: true,
      value: { id: 2, result: [] },
      duplicateKeys: [
        { path: [], key: 'id' },
        { path: [], key: 'result' },
      ],
    });
    expect(envelope('{"jsonrpc":"2.0","id":1,"result":{},"result":{"x":1}}')).toMatchObject({
      duplicateKeys: [{ path: [], key: 'result' }],
    });
    // Short or long, the depth bound holds as it does without tracking.
    expect(envelope(`{"a":${'['.repeat(300)}${']'.repeat(300)}}`)).toMatchObject({
      ok: false,
      kind: 'too_deep',
    });
  });

  it("finds a repeat of the message's own key in short and long messages, escaped or not", () => {
    const keys = ['jsonrpc', 'id', 'method', 'params', 'result', 'error'];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.jsonValue(),
        fc.string({ maxLength: 2000 }),
        fc.boolean(),
        (key, value, padding, escaped) => {
          const spelt = escaped
            ? `"\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}"`
            : `"${key}"`;
          const text = `{"${key}":${JSON.stringify(value)},"pad":${JSON.stringify(padding)},${spelt}:0}`;
          const result = decodeMessage(Buffer.from(text), { trackDuplicateKeys: 'envelope' });
          expect(result).toMatchObject({ ok: true, duplicateKeys: [{ path: [], key }] });
        },
      ),
    );
  });

  it('reports nothing when duplicate tracking is off', () => {
    const result = decodeMessage(Buffer.from('{"a":1,"a":2}'), { trackDuplicateKeys: false });
    expect(result).toMatchObject({ ok: true, value: { a: 2 }, duplicateKeys: [] });
  });

  it('finds duplicates in random objects with a key repeated', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, key) => {
        const text = `{${JSON.stringify(key)}:${JSON.stringify(value)},"other":[${JSON.stringify(value)}],${JSON.stringify(key)}:0}`;
        const duplicates = duplicatesOf(text);
        expect(duplicates).toContainEqual({ path: [], key });
      }),
    );
  });
});

describe('sniffId', () => {
  const sniff = (head: string, tail = '') => sniffId(Buffer.from(head), Buffer.from(tail));

  it('finds a numeric id in the head', () => {
    expect(sniff('{"jsonrpc":"2.0","id" : 42,"method":"tools/call","params":{"x":"')).toBe(42);
    expect(sniff('{"id":-3,')).toBe(-3);
  });

  it('finds a string id in the tail', () => {
    expect(
      sniff('{"jsonrpc":"2.0","method":"tools/call","params":{"x":"', 'xxx"},"id":"req-1"}'),
    ).toBe('req-1');
  });

  it('finds the same id seen in head and tail once', () => {
    expect(sniff('{"id":5,"a":', '"b","id":5}')).toBe(5);
  });

  it('gives undefined for an ambiguous id', () => {
    expect(sniff('{"id":1,"params":{"id":2,', '')).toBeUndefined();
    expect(sniff('{"id":1,', '"id":"1"}')).toBeUndefined();
  });

  it('gives undefined when there is no id', () => {
    expect(sniff('{"jsonrpc":"2.0","method":"notify","params":{"a":"', '"}}')).toBeUndefined();
    expect(sniff('', '')).toBeUndefined();
  });

  it('ignores a number cut off at the end of the head', () => {
    expect(sniff('{"data":"x","id":12')).toBeUndefined();
    expect(sniff('', '{"data":"x","id":12')).toBe(12);
  });

  it('ignores ids that are not integers or short plain strings', () => {
    expect(sniff('{"id":1.5,')).toBeUndefined();
    expect(sniff('{"id":1e3,')).toBeUndefined();
    expect(sniff('{"id":null,')).toBeUndefined();
    expect(sniff('{"id":"a\\"b",')).toBeUndefined();
    expect(sniff(`{"id":"${'x'.repeat(257)}",`)).toBeUndefined();
    expect(sniff('{"id":123456789012345678901234,')).toBeUndefined();
  });
});

describe('FrameError', () => {
  it('describes an oversize line and carries its sniffed id', () => {
    const error = oversizeError(
      {
        kind: 'oversize',
        bytes: 40_000_000,
        head: Buffer.from('{"jsonrpc":"2.0","id":9,"result":{"content":"'),
        tail: Buffer.from('"}}'),
      },
      DEFAULT_MAX_MESSAGE_BYTES,
    );
    expect(error).toBeInstanceOf(FrameError);
    expect(FrameError.isInstance(error)).toBe(true);
    expect(error.message).toBe('message of 40000000 bytes exceeds the 33554432-byte limit');
    expect(error).toMatchObject({ kind: 'too_large', bytes: 40_000_000, sniffedId: 9 });
  });

  it('describes a line that did not decode and leaves out an id it cannot find', () => {
    const bytes = Buffer.from('{"jsonrpc":"2.0",,"method":"x"}');
    const result = decodeMessage(bytes, { trackDuplicateKeys: false });
    if (result.ok) throw new Error('expected a parse error');
    const error = decodeError(bytes, result);
    expect(error).toMatchObject({ kind: 'parse', bytes: bytes.length, name: 'FrameError' });
    expect('sniffedId' in error).toBe(false);
  });

  it('sniffs the id of a long garbled line from both ends', () => {
    const bytes = Buffer.from(`{"id":"abc","x":"${'y'.repeat(5000)}",}`);
    const result = decodeMessage(bytes, { trackDuplicateKeys: false });
    if (result.ok) throw new Error('expected a parse error');
    expect(decodeError(bytes, result).sniffedId).toBe('abc');
  });
});
