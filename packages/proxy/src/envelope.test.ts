import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSettings } from '../test/fuzz-runs.js';
import { readEnvelope } from './envelope.js';
import { LineParts } from './line-parts.js';

/**
 * The envelope of `text`, checked to be the same however the text is cut into parts (once
 * anywhere, or into single bytes), as it may come in reads.
 */
function read(text: string, maxDepth = 256) {
  const bytes = Buffer.from(text);
  const envelope = readEnvelope(bytes, maxDepth);
  const ways = [[...bytes].map((byte) => Buffer.from([byte]))];
  for (let at = 1; at < bytes.length; at++) ways.push([bytes.subarray(0, at), bytes.subarray(at)]);
  for (const parts of ways) expect(readEnvelope(new LineParts(parts), maxDepth)).toEqual(envelope);
  return envelope;
}

describe('readEnvelope', () => {
  it('reads the keys and the routed members of a response without parsing its result', () => {
    const text = ` {"result":{"content":[{"type":"text","text":"a \\" } ] { é"}]},"jsonrpc":"2.0","id":7} `;
    expect(read(text)).toEqual({
      keys: ['result', 'jsonrpc', 'id'],
      members: { jsonrpc: '2.0', id: 7, method: undefined },
      resultIsError: false,
    });
    expect(read('{"jsonrpc":"2.0","id":"a\\"b","result":[]}')?.members.id).toBe('a"b');
  });

  it.each([
    ['an array', '[{"id":1}]'],
    ['an empty object', '{}'],
    ['a repeated key', '{"id":1,"id":2,"result":{}}'],
    ['unbalanced brackets', '{"id":1,"result":{"a":[1}'],
    ['an unterminated string', '{"id":1,"result":"abc}'],
    ['text after the object', '{"id":1,"result":{}} x'],
    ['a missing colon', '{"id" 1}'],
    ['an invalid routed value', '{"id":01x,"result":{}}'],
    ['nesting beyond the limit', `{"id":1,"result":${'['.repeat(300)}${']'.repeat(300)}}`],
    [
      'nesting beyond the limit inside a result object',
      `{"id":1,"result":{"a":${'['.repeat(300)}${']'.repeat(300)}}}`,
    ],
    ['a result object cut short', '{"id":1,"result":{"isError":true'],
    ['a result member without a value', '{"id":1,"result":{"isError":}}'],
  ])('gives up on %s', (_, text) => {
    expect(read(text)).toBeUndefined();
  });

  it.each([
    ['{"id":1,"result":{"content":[],"isError":true}}', true],
    ['{"id":1,"result":{ "isError" : true }}', true],
    ['{"id":1,"result":{"isError":false}}', false],
    ['{"id":1,"result":{"isError":"true"}}', false],
    ['{"id":1,"result":{"isError":1}}', false],
    ['{"id":1,"result":{"isError":true,"isError":false}}', false],
    ['{"id":1,"result":{"isError":false,"isError":true}}', true],
    ['{"id":1,"result":{"content":[{"isError":true}]}}', false],
    ['{"id":1,"result":{"meta":{"isError":true}}}', false],
    ['{"id":1,"result":{"text":"\\"isError\\":true"}}', false],
    ['{"id":1,"result":[{"isError":true}]}', false],
    ['{"id":1,"result":{}}', false],
  ])('reads result.isError of %s as %s, as JSON.parse would', (text, isError) => {
    const parsed = JSON.parse(text) as { result: unknown };
    const expected =
      typeof parsed.result === 'object' &&
      parsed.result !== null &&
      (parsed.result as { isError?: unknown }).isError === true;
    expect(expected).toBe(isError);
    expect(read(text)?.resultIsError).toBe(isError);
  });

  it('agrees with JSON.parse on every response it reads', () => {
    const response = fc.record({
      jsonrpc: fc.constant('2.0'),
      id: fc.oneof(fc.integer(), fc.string()),
      result: fc.oneof(
        fc.jsonValue(),
        fc.record(
          { content: fc.jsonValue(), isError: fc.oneof(fc.boolean(), fc.jsonValue()) },
          { requiredKeys: [] },
        ),
      ),
    });
    fc.assert(
      fc.property(response, fc.boolean(), (value, spaced) => {
        const text = JSON.stringify(value, null, spaced ? 1 : undefined);
        const envelope = read(text, 10_000);
        expect(envelope).toBeDefined();
        expect(envelope?.keys).toEqual(Object.keys(value));
        expect(envelope?.members.id).toEqual(value.id);
        expect(envelope?.members.jsonrpc).toBe('2.0');
        const result = value.result as { isError?: unknown } | null;
        expect(envelope?.resultIsError).toBe(
          typeof result === 'object' && !Array.isArray(result) && result?.isError === true,
        );
      }),
      fuzzSettings(20261124, 500),
    );
  });
});
