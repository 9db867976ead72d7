/**
 * Random client traffic, fixed seed: whatever arrives, the proxy never fails internally, every
 * request gets exactly as many answers as it was sent, and nothing reaches the server that the
 * policy does not allow.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzSettings, fuzzTimeout } from './fuzz-runs.js';
import { engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: fuzz
version: "1"
rules:
  - id: allow-read
    match_on: { resources: [read] }
    effect: { type: allow }
`;

type Piece = { readonly text: string; readonly requests: readonly (number | string)[] };

const id = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom('a', 'b', '1'));
const name = fc.constantFrom('read', 'rm', 'Read', '__proto__', 'constructor');
const args = fc.oneof(
  fc.constant({}),
  fc.dictionary(fc.constantFrom('path', 'Path', '__proto__', 'x'), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: 3,
  }),
);

const request: fc.Arbitrary<{ value: Record<string, unknown>; id: number | string }> = fc.oneof(
  fc.record({ id, name, args }).map(({ id, name, args }) => ({
    id,
    value: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } },
  })),
  fc.record({ id, name }).map(({ id, name }) => ({
    id,
    value: { jsonrpc: '2.0', id, method: 'tools/call', params: { name: [name] } },
  })),
  fc
    .record({ id, method: fc.constantFrom('tools/list', 'ping', 'resources/list', 'shell/exec') })
    .map(({ id, method }) => ({ id, value: { jsonrpc: '2.0', id, method } })),
  fc.record({ id, name }).map(({ id, name }) => ({
    id,
    value: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, Name: 'rm' } },
  })),
);

const piece: fc.Arbitrary<Piece> = fc.oneof(
  request.map(({ value, id }) => ({ text: JSON.stringify(value), requests: [id] })),
  fc.array(request, { minLength: 1, maxLength: 4 }).map((items) => ({
    text: JSON.stringify(items.map((item) => item.value)),
    requests: items.map((item) => item.id),
  })),
  name.map((name) => ({
    text: JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name } }),
    requests: [],
  })),
  id.map((requestId) => ({
    text: JSON.stringify({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId },
    }),
    requests: [],
  })),
  fc
    .constantFrom(
      '{"jsonrpc":',
      '[]',
      'null',
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read","name":"rm"}}',
    )
    .map((text) => ({ text, requests: text.includes('"id":7') ? [7] : [] })),
);

describe('the proxy under random client traffic', () => {
  it(
    'answers every request as often as it was sent, forwards only allowed calls, never fails',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 12 }), async (pieces) => {
          const h = await harness(engineFrom(POLICY));
          // The server answers every request it gets.
          const answered = new Set<number>();
          const serve = setInterval(() => {
            h.toServer.lines.forEach((line, index) => {
              if (answered.has(index)) return;
              answered.add(index);
              const message = JSON.parse(line) as { id?: unknown; method?: string };
              if (message.id !== undefined)
                h.fromServer({ jsonrpc: '2.0', id: message.id, result: {} });
            });
          }, 2);
          try {
            for (const { text } of pieces) h.fromClient(text);
            await settle(60);
          } finally {
            clearInterval(serve);
          }
          // What the client sent, as ids, and what came back.
          const sent = new Map<string, number>();
          for (const { requests } of pieces) {
            for (const requestId of requests)
              sent.set(JSON.stringify(requestId), (sent.get(JSON.stringify(requestId)) ?? 0) + 1);
          }
          const got = new Map<string, number>();
          for (const message of h.toClient.messages) {
            for (const answer of Array.isArray(message) ? message : [message]) {
              const key = JSON.stringify((answer as { id: unknown }).id);
              if (key === 'null') continue;
              got.set(key, (got.get(key) ?? 0) + 1);
            }
          }
          // A request the client cancelled may go unanswered (MCP); every other gets exactly its due.
          const cancelled = new Set(
            pieces.flatMap(({ text }) => {
              const match = /"notifications\/cancelled","params":\{"requestId":("?[^"}]*"?)\}/.exec(
                text,
              );
              return match === null ? [] : [match[1] as string];
            }),
          );
          for (const [key, count] of sent) {
            const answers = got.get(key) ?? 0;
            if (cancelled.has(key)) expect(answers).toBeLessThanOrEqual(count);
            else expect({ id: key, answers }).toEqual({ id: key, answers: count });
          }
          for (const key of got.keys()) expect(sent.has(key)).toBe(true);
          for (const line of h.toServer.lines) {
            const message = JSON.parse(line) as { method?: string; params?: { name?: unknown } };
            if (message.method === 'tools/call') expect(message.params?.name).toBe('read');
          }
          expect(h.reports.filter((report) => report.code === 'internal_error')).toEqual([]);
          await h.proxy.close();
        }),
        fuzzSettings(20261124, 100),
      );
    },
    fuzzTimeout(60_000),
  );
});
