import { describe, expect, it } from 'vitest';
import {
  auditRecords,
  isObject,
  type JsonObject,
  proxiesPerTest,
  type RawProxy,
  recordedCalls,
  recordedLines,
  resultText,
  toolCall,
} from './proxy-helpers.js';

const { start } = proxiesPerTest();

/** Allows `safe` for the barriers, and for a target.path under /safe; denies the rest. */
const DOTTED_FIELD_POLICY = `name: dotted
version: "1"
rules:
  - id: allow-barrier
    match_on: { resources: [safe], conditions: [{ field: barrier, operator: exists }] }
    effect: { type: allow }
  - id: allow-safe-paths
    match_on:
      resources: [safe]
      conditions: [{ field: target.path, operator: path_under, value: /safe }]
    effect: { type: allow }
`;

/**
 * An allowed call sent after the attempt: audit writes resolve in call order, so once its
 * answer is back, anything the attempt could have had forwarded has reached the server.
 */
async function barrier(proxy: RawProxy, id: string): Promise<void> {
  proxy.send(toolCall(id, 'safe', { barrier: id }));
  await proxy.answerTo(id);
}

function errorCode(answer: JsonObject): number | undefined {
  return isObject(answer.error) ? (answer.error.code as number) : undefined;
}

/** Sends one raw line, waits for its answer and the barrier, returns the answer. */
async function attempt(proxy: RawProxy, id: string | number, line: string): Promise<JsonObject> {
  proxy.send(line);
  const answer = await proxy.answerTo(id);
  await barrier(proxy, `after-${id}`);
  return answer;
}

/** Names of the tools the server was asked to run, barriers left out. */
async function forwardedNames(proxy: RawProxy): Promise<unknown[]> {
  const calls = await recordedCalls(proxy.recordFile);
  return calls
    .map((call) => (call.params as JsonObject | undefined)?.name)
    .filter((name, index) => !(name === 'safe' && isBarrier(calls[index])));
}

function isBarrierRecord(record: JsonObject): boolean {
  return record.resource === 'safe' && isBarrier({ params: { arguments: record.parameters } });
}

function isBarrier(call: JsonObject | undefined): boolean {
  const args = (call?.params as JsonObject | undefined)?.arguments;
  return isObject(args) && typeof args.barrier === 'string';
}

describe('kvlar proxy --stdio refuses what could smuggle a call past the policy', () => {
  it('forwards the allowed element of a batch, not the denied one, and answers with one array', async () => {
    const proxy = await start();
    proxy.send(`[${toolCall(1, 'safe', { n: 1 })},${toolCall(2, 'rm', { path: '/' })}]`);
    await proxy.waitFor((received) => received.some(Array.isArray));
    const batch = proxy.received.find(Array.isArray) as JsonObject[];
    await barrier(proxy, 'b');

    expect(batch.map((answer) => answer.id).sort()).toEqual([1, 2]);
    const allowed = batch.find((answer) => answer.id === 1) as JsonObject;
    const denied = batch.find((answer) => answer.id === 2) as JsonObject;
    expect(JSON.parse(resultText(allowed))).toEqual({ name: 'safe', arguments: { n: 1 } });
    expect(resultText(denied)).toMatch(/^\[BLOCKED BY KVLAR\]/);
    expect((denied.result as JsonObject).isError).toBe(true);
    // Neither id was answered outside the batch.
    expect(proxy.received.filter((m) => isObject(m) && (m.id === 1 || m.id === 2))).toEqual([]);
    expect(await forwardedNames(proxy)).toEqual(['safe']);
  });

  it('answers a mixed batch element by element in one array, forwarding only what is allowed', async () => {
    const proxy = await start();
    const elements = [
      toolCall(1, 'safe'),
      JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'safe' } }),
      '5',
      `[${toolCall(3, 'safe', { nested: true })}]`,
      toolCall(1, 'rm'),
      JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }),
    ];
    proxy.send(`[${elements.join(',')}]`);
    await proxy.waitFor((received) => received.some(Array.isArray));
    const batch = proxy.received.find(Array.isArray) as JsonObject[];
    await barrier(proxy, 'b');

    // No answer for the notification; the number and the nested batch are invalid requests.
    expect(batch).toHaveLength(5);
    const byId = (id: unknown) => batch.filter((answer) => answer.id === id);
    expect(byId(null).map(errorCode)).toEqual([-32600, -32600]);
    expect(byId(1).map((answer) => errorCode(answer) ?? 'result')).toEqual(
      expect.arrayContaining(['result', -32600]),
    );
    expect(byId(4)).toEqual([{ jsonrpc: '2.0', id: 4, result: {} }]);
    expect(proxy.received.filter((m) => isObject(m) && [1, 3, 4].includes(m.id as number))).toEqual(
      [],
    );
    expect(await forwardedNames(proxy)).toEqual(['safe']);
    expect(JSON.stringify(await recordedLines(proxy.recordFile))).not.toContain('nested');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'denies a tool named %s by default and forwards nothing',
    async (name) => {
      const proxy = await start();
      const answer = await attempt(proxy, 12, toolCall(12, name, { [name]: { name: 'safe' } }));
      expect(resultText(answer)).toMatch(/^\[BLOCKED BY KVLAR\]/);
      const meta = (answer.result as JsonObject)._meta as JsonObject;
      expect(meta['kvlar.io/decision']).toMatchObject({
        code: 'POLICY_DEFAULT_DENY',
        rule_id: '_default_deny',
        tool: name,
      });
      expect(await forwardedNames(proxy)).toEqual([]);
    },
  );

  it('never forwards tools/call sent as a notification, even for an allowed tool', async () => {
    const proxy = await start();
    proxy.send(
      JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'safe' } }),
      JSON.stringify({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'rm' } }),
    );
    await barrier(proxy, 'b');

    expect(await forwardedNames(proxy)).toEqual([]);
    // Only the barrier was answered: a notification gets no answer.
    expect(
      proxy.received.filter((m) => !(isObject(m) && (m.id === 'init' || m.id === 'b'))),
    ).toEqual([]);
    const records = await auditRecords(proxy.auditFile);
    const refused = records.filter((record) => record.matched_rule === '_invalid_request');
    expect(refused.map((record) => [record.resource, record.outcome])).toEqual([
      ['safe', 'denied'],
      ['rm', 'denied'],
    ]);
  });

  it.each([
    ['a non-string name', '{"name":["rm"],"arguments":{}}', -32602],
    ['a numeric name', '{"name":42}', -32602],
    ['array arguments', '{"name":"safe","arguments":["rm","-rf","/"]}', -32602],
    ['string arguments', '{"name":"safe","arguments":"rm -rf /"}', -32602],
    ['a duplicate name key', '{"name":"safe","name":"rm"}', -32602],
    ['a duplicate arguments key', '{"name":"safe","arguments":{},"arguments":{"x":1}}', -32602],
    ['a case-variant Name key', '{"name":"safe","Name":"rm"}', -32602],
    ['an escaped duplicate n\\u0061me key', '{"name":"safe","n\\u0061me":"rm"}', -32602],
    ['an unknown params key', '{"name":"safe","tool":"rm"}', -32602],
    ['a __proto__ params key', '{"name":"safe","__proto__":{"name":"rm"}}', -32602],
    [
      'arguments keys that differ only by case',
      '{"name":"safe","arguments":{"command":"ls","Command":"rm -rf /"}}',
      -32602,
    ],
    [
      'nested arguments keys that differ only by case',
      '{"name":"safe","arguments":{"opts":{"path":"/tmp","PATH":"/etc"}}}',
      -32602,
    ],
  ])('refuses a tools/call with %s and forwards nothing', async (_what, params, code) => {
    const proxy = await start();
    const answer = await attempt(
      proxy,
      7,
      `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":${params}}`,
    );
    expect(errorCode(answer)).toBe(code);
    expect(answer).not.toHaveProperty('result');
    expect(await forwardedNames(proxy)).toEqual([]);
    const records = await auditRecords(proxy.auditFile);
    expect(records.filter((record) => record.matched_rule === '_invalid_request')).toHaveLength(1);
  });

  it.each([
    [
      'a case-variant Method key',
      '{"jsonrpc":"2.0","id":8,"method":"ping","Method":"tools/call","params":{"name":"rm"}}',
    ],
    ['a Method key alone', '{"jsonrpc":"2.0","id":8,"Method":"tools/call","params":{"name":"rm"}}'],
    [
      'a duplicate method key',
      '{"jsonrpc":"2.0","id":8,"method":"ping","method":"tools/call","params":{"name":"rm"}}',
    ],
    [
      'an escaped duplicate m\\u0065thod key',
      '{"jsonrpc":"2.0","id":8,"method":"ping","m\\u0065thod":"tools/call","params":{"name":"rm"}}',
    ],
    [
      'a duplicate params key',
      '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"safe"},"params":{"name":"rm"}}',
    ],
  ])('refuses a message with %s and forwards nothing', async (_what, line) => {
    const proxy = await start();
    const answer = await attempt(proxy, 8, line);
    expect([-32600, -32602]).toContain(errorCode(answer));
    const received = await recordedLines(proxy.recordFile);
    // Neither the ping nor the call reached the server.
    expect(received.filter((text) => JSON.parse(text).id === 8)).toEqual([]);
    expect(received.filter((text) => text.includes('"rm"'))).toEqual([]);
  });

  it('denies a call whose dotted field the arguments give two values, and forwards nothing', async () => {
    // `target.path` under /safe as a key of that name, /etc/passwd nested: a server reading the
    // nested path would write /etc/passwd under a check made on the key.
    const proxy = await start({ policy: DOTTED_FIELD_POLICY });
    const smuggled = { 'target.path': '/safe/x', target: { path: '/etc/passwd' } };
    const denied = await attempt(proxy, 13, toolCall(13, 'safe', smuggled));
    expect(resultText(denied)).toMatch(
      /^\[BLOCKED BY KVLAR\]\nTool: safe\nPolicy rule: _ambiguous_field\nReason: .*"target\.path"/,
    );
    const meta = (denied.result as JsonObject)._meta as JsonObject;
    expect(meta['kvlar.io/decision']).toMatchObject({ rule_id: '_ambiguous_field', tool: 'safe' });
    expect(await forwardedNames(proxy)).toEqual([]);
    expect(JSON.stringify(await recordedLines(proxy.recordFile))).not.toContain('/etc/passwd');
    const records = await auditRecords(proxy.auditFile);
    expect(
      records
        .filter((record) => record.matched_rule === '_ambiguous_field')
        .map((record) => [record.resource, record.outcome]),
    ).toEqual([['safe', 'denied']]);

    // The same policy forwards the path given one way, under /safe.
    const allowed = await attempt(proxy, 14, toolCall(14, 'safe', { target: { path: '/safe/x' } }));
    expect(JSON.parse(resultText(allowed))).toEqual({
      name: 'safe',
      arguments: { target: { path: '/safe/x' } },
    });
    expect(await forwardedNames(proxy)).toEqual(['safe']);
  });

  it('records every line it cannot read as a denied unreadable attempt, and forwards none', async () => {
    const proxy = await start();
    const call = toolCall(20, 'rm', { path: '/' });
    const lines = [
      Buffer.from(`${call.slice(0, -1)},}\n`), // not JSON
      Buffer.concat([
        Buffer.from(call.slice(0, 30)),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('"}\n'),
      ]),
      Buffer.from(`[[${call}]]\n`), // a batch inside a batch
    ];
    for (const line of lines) proxy.child.stdin?.write(line);
    const refusals = () =>
      proxy.received.filter(
        (answer) => Array.isArray(answer) || (isObject(answer) && answer.id === null),
      );
    await proxy.waitFor(() => refusals().length >= lines.length);
    await barrier(proxy, 'after-unreadable');
    expect(refusals().map((answer) => JSON.stringify(answer).slice(0, 60))).toEqual([
      expect.stringContaining('"error":{"code":-32700'),
      expect.stringContaining('"error":{"code":-32700'),
      expect.stringContaining('[{"jsonrpc":"2.0","id":null,"error":{"code":-32600'),
    ]);
    expect(await forwardedNames(proxy)).toEqual([]);
    const records = (await auditRecords(proxy.auditFile)).filter((r) => !isBarrierRecord(r));
    expect(
      records.map((record) => [record.action_type, record.outcome, record.matched_rule]),
    ).toEqual(lines.map(() => ['unreadable', 'denied', '_invalid_request']));
    expect(records.map((record) => record.reason)).toEqual([
      expect.stringMatching(/^message is not valid JSON/),
      expect.stringMatching(/^message is not valid UTF-8 \(invalid byte at offset 30\)/),
      'a JSON-RPC message must be an object, not an array',
    ]);
  });

  it('decides an escaped n\\u0061me key as the name it decodes to', async () => {
    const proxy = await start();
    const denied = await attempt(
      proxy,
      9,
      '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"n\\u0061me":"rm"}}',
    );
    expect(resultText(denied)).toMatch(/^\[BLOCKED BY KVLAR\]\nTool: rm\n/);
    expect(await forwardedNames(proxy)).toEqual([]);

    proxy.send('{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"n\\u0061me":"safe"}}');
    await proxy.answerTo(10);
    const lines = await recordedLines(proxy.recordFile);
    // The server gets the key as the engine read it, not the client's spelling.
    expect(lines.at(-1)).toBe(
      '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"safe"}}',
    );
  });

  it('refuses a request whose id is already in flight, and forwards only the first', async () => {
    const proxy = await start();
    proxy.send(toolCall(50, 'slow', { ms: 800 }));
    // Wait until the first is at the server, so the second certainly meets a forwarded id.
    await waitForRecorded(proxy, (names) => names.includes('slow'));
    proxy.send(toolCall(50, 'safe', { second: true }), toolCall(50, 'rm'));
    await proxy.waitFor(
      (received) => received.filter((m) => isObject(m) && m.id === 50).length === 3,
    );
    const answers = proxy.received.filter((m) => isObject(m) && m.id === 50) as JsonObject[];
    expect(answers.slice(0, 2).map(errorCode)).toEqual([-32600, -32600]);
    expect(JSON.parse(resultText(answers[2] as JsonObject))).toEqual({
      name: 'slow',
      arguments: { ms: 800 },
    });
    await barrier(proxy, 'b');
    expect(await forwardedNames(proxy)).toEqual(['slow']);
  });

  it('drops server answers to ids it holds or has answered itself', async () => {
    const proxy = await start();
    const ids = Array.from({ length: 40 }, (_, index) => `held-${index}`);
    // The server forges an answer to every one of these ids each millisecond for 1.5 s.
    proxy.send(toolCall('spam', 'spam', { ids, ms: 1500 }));
    await proxy.answerTo('spam');
    for (const id of ids) {
      proxy.send(toolCall(id, 'rm', { path: `/${id}` }));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await proxy.waitFor((received) =>
      ids.every((id) => received.some((m) => isObject(m) && m.id === id)),
    );
    // Let the forgeries run out, then look: one answer per id, and it is Kvlar's.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    for (const id of ids) {
      const answers = proxy.received.filter((m) => isObject(m) && m.id === id) as JsonObject[];
      expect(answers).toHaveLength(1);
      expect(resultText(answers[0] as JsonObject)).toMatch(/^\[BLOCKED BY KVLAR\]/);
    }
    expect(JSON.stringify(proxy.received)).not.toContain('forged');
  });

  it('hides the denied tool from tools/list, alone or inside a batch', async () => {
    const proxy = await start();
    const list = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' });
    proxy.send(list(20), `[${list(21)}]`);
    const names = (answer: JsonObject) =>
      ((answer.result as JsonObject).tools as JsonObject[]).map((tool) => tool.name);
    expect(names(await proxy.answerTo(20))).toEqual(['safe', 'slow', 'crash', 'inject', 'spam']);
    await proxy.waitFor((received) => received.some(Array.isArray));
    const [inBatch] = proxy.received.find(Array.isArray) as JsonObject[];
    expect(names(inBatch as JsonObject)).toEqual(['safe', 'slow', 'crash', 'inject', 'spam']);
  });

  it('forwards the evaluated message re-serialised, not the client text', async () => {
    const proxy = await start();
    const spaced =
      '{ "params" : { "arguments" : { "b" : 1 , "a" : [ 2 , 3 ] } , "name" : "safe" } ,' +
      ' "method" : "tools/call" , "id" : 11 , "jsonrpc" : "2.0" }';
    proxy.send(spaced);
    const answer = await proxy.answerTo(11);
    const lines = await recordedLines(proxy.recordFile);
    expect(lines.at(-1)).toBe(
      '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"safe","arguments":{"b":1,"a":[2,3]}}}',
    );
    expect(JSON.parse(resultText(answer))).toEqual({
      name: 'safe',
      arguments: { b: 1, a: [2, 3] },
    });
  });
});

async function waitForRecorded(
  proxy: RawProxy,
  done: (names: unknown[]) => boolean,
  timeoutMs = 5000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (done(await forwardedNames(proxy))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the server never received it; stderr:\n${proxy.stderr()}`);
}
