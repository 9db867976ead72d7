import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { kvlar } from './helpers.js';
import {
  auditRecords,
  isObject,
  type JsonObject,
  proxiesPerTest,
  type RawProxy,
  recordedCalls,
  recordedLines,
  resultText,
  serverPid,
  toolCall,
  waitUntilGone,
} from './proxy-helpers.js';

const { start, launch } = proxiesPerTest();

function errorOf(answer: JsonObject): { code: number; message: string } {
  expect(answer).not.toHaveProperty('result');
  return answer.error as { code: number; message: string };
}

/** A ping round trip: the session still answers. */
async function expectAlive(proxy: RawProxy, id: string): Promise<void> {
  proxy.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
  expect(await proxy.answerTo(id)).toEqual({ jsonrpc: '2.0', id, result: {} });
}

/** The last answer with `id: null` that arrived after `from` messages. */
async function nextNullAnswer(proxy: RawProxy, from: number): Promise<JsonObject> {
  const find = () =>
    proxy.received.slice(from).find((message) => isObject(message) && message.id === null);
  await proxy.waitFor(() => find() !== undefined);
  return find() as JsonObject;
}

async function expectVerified(auditFile: string): Promise<void> {
  const verified = await kvlar(['audit', 'verify', auditFile], { cwd: process.cwd() });
  expect(verified.stderr + verified.stdout).not.toMatch(/broken|tamper/i);
  expect(verified.code).toBe(0);
}

describe('kvlar proxy --stdio survives bad input', () => {
  it.each([
    ['truncated JSON', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"')],
    ['text that is not JSON', Buffer.from('hello kvlar')],
    ['a trailing comma', Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping",}')],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
  ])('answers %s with -32700 and id null, then goes on', async (_what, bytes) => {
    const proxy = await start();
    const from = proxy.received.length;
    proxy.child.stdin?.write(Buffer.concat([bytes, Buffer.from('\n')]));
    const answer = await nextNullAnswer(proxy, from);
    expect(errorOf(answer).code).toBe(-32700);
    await expectAlive(proxy, 'after');
    expect(await recordedCalls(proxy.recordFile)).toEqual([]);
  });

  it('refuses a message over --max-message-bytes, answering its id, and goes on', async () => {
    const proxy = await start({ flags: ['--max-message-bytes', '4096'] });
    proxy.send(toolCall(3, 'safe', { pad: 'x'.repeat(5000) }));
    const answer = await proxy.answerTo(3);
    expect(errorOf(answer).code).toBe(-32600);
    expect(errorOf(answer).message).toMatch(/4096/);
    // One without a readable id is answered with id null.
    const from = proxy.received.length;
    proxy.send(`{"pad":"${'y'.repeat(5000)}"}`);
    expect(errorOf(await nextNullAnswer(proxy, from)).code).toBe(-32600);

    await expectAlive(proxy, 'after');
    proxy.send(toolCall(4, 'safe', { small: true }));
    expect(JSON.parse(resultText(await proxy.answerTo(4)))).toEqual({
      name: 'safe',
      arguments: { small: true },
    });
    const forwarded = await recordedCalls(proxy.recordFile);
    expect(forwarded.map((call) => call.id)).toEqual([4]);
  });

  it('answers a call whose server answer is over --max-message-bytes with -32000', async () => {
    const proxy = await start({ flags: ['--max-message-bytes', '4096'] });
    // Each `"` is 2 bytes in the request and 4 in the answer, which quotes the arguments twice.
    proxy.send(toolCall(5, 'safe', { pad: '"'.repeat(1500) }));
    const answer = await proxy.answerTo(5);
    expect(errorOf(answer).code).toBe(-32000);
    await expectAlive(proxy, 'after');
  });

  it('refuses 100,000-deep nesting without crashing, and goes on', async () => {
    const proxy = await start();
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    let from = proxy.received.length;
    proxy.send(deep);
    expect(errorOf(await nextNullAnswer(proxy, from)).code).toBe(-32600);

    from = proxy.received.length;
    proxy.send(
      `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"safe","arguments":{"deep":${deep}}}}`,
    );
    await proxy.waitFor((received) =>
      received.slice(from).some((m) => isObject(m) && (m.id === null || m.id === 6)),
    );
    const answer = proxy.received.slice(from).find((m) => isObject(m)) as JsonObject;
    expect([-32600, -32602]).toContain(errorOf(answer).code);

    await expectAlive(proxy, 'after');
    expect(await recordedCalls(proxy.recordFile)).toEqual([]);
  });

  it('survives a server that writes garbage to stdout', async () => {
    const proxy = await start();
    const lines = ['not json at all', '{"jsonrpc":"2.0","id":"x"', '[]', '{"id":99}', '42'];
    proxy.send(toolCall(7, 'inject', { lines }));
    expect(JSON.parse(resultText(await proxy.answerTo(7)))).toMatchObject({ name: 'inject' });
    await expectAlive(proxy, 'after');
    // Nothing but well-formed answers reached the client.
    for (const message of proxy.received)
      expect(isObject(message) || Array.isArray(message)).toBe(true);
  });

  it('refuses server messages with a repeated key: the client never gets those bytes', async () => {
    const proxy = await start();
    await proxy.initialize();
    // Call 8 waits at the server while it writes an answer naming id 8 last and 77 first, and a
    // request whose first method is sampling/createMessage, its last ping.
    proxy.send(toolCall(8, 'slow', { ms: 1500 }));
    const lines = [
      '{"jsonrpc":"2.0","id":77,"id":8,"result":{"content":[]}}',
      '{"jsonrpc":"2.0","id":"s2","method":"sampling/createMessage","params":{"messages":[],"maxTokens":9},"method":"ping"}',
    ];
    proxy.send(toolCall(9, 'inject', { lines }));
    expect(JSON.parse(resultText(await proxy.answerTo(9)))).toMatchObject({ name: 'inject' });
    expect(errorOf(await proxy.answerTo(8))).toMatchObject({
      code: -32000,
      message: expect.stringContaining("duplicate key 'id'"),
    });
    // The server's own request was answered with an error, not relayed.
    await vi.waitFor(async () => {
      const sent = (await recordedLines(proxy.recordFile)).map((line) => JSON.parse(line));
      expect(sent.filter((message) => message.id === 's2')).toEqual([
        expect.objectContaining({ error: expect.objectContaining({ code: -32600 }) }),
      ]);
    });
    // The real answer to call 8, when it comes, is dropped: the call had its one answer.
    await vi.waitFor(() => expect(proxy.stderr()).toContain('unknown request id 8'), {
      timeout: 5000,
    });
    const ids = proxy.received.flatMap((message) => (isObject(message) ? [message.id] : []));
    expect(ids.filter((id) => id === 8 || id === 77 || id === 's2')).toEqual([8]);
  });
});

// Every write to /dev/full fails with ENOSPC: an audit log that cannot be written.
describe.runIf(existsSync('/dev/full'))('kvlar proxy --stdio with a failing audit log', () => {
  it('denies an allowed call it cannot record, and forwards nothing', async () => {
    const proxy = await start({ flags: ['--audit', '/dev/full'] });
    proxy.send(toolCall(1, 'safe'));
    const answer = await proxy.answerTo(1);
    expect(resultText(answer)).toMatch(/^\[BLOCKED BY KVLAR\]/);
    const meta = (answer.result as JsonObject)._meta as JsonObject;
    expect(meta['kvlar.io/decision']).toMatchObject({ rule_id: '_audit_failure' });
    await expectAlive(proxy, 'after');
    expect(await recordedCalls(proxy.recordFile)).toEqual([]);
  });

  it('forwards it with --audit-failure allow', async () => {
    const proxy = await start({ flags: ['--audit', '/dev/full', '--audit-failure', 'allow'] });
    proxy.send(toolCall(1, 'safe'), toolCall(2, 'rm'));
    expect(JSON.parse(resultText(await proxy.answerTo(1)))).toEqual({
      name: 'safe',
      arguments: {},
    });
    // A denial stays a denial.
    expect(resultText(await proxy.answerTo(2))).toMatch(/^\[BLOCKED BY KVLAR\]/);
    expect((await recordedCalls(proxy.recordFile)).map((call) => call.id)).toEqual([1]);
  });
});

describe('kvlar proxy --stdio and its audit log', () => {
  it('redacts the argument names given with --redact-key, besides the default ones', async () => {
    const proxy = await start({ flags: ['--redact-key', 'ssn'] });
    proxy.send(toolCall(7, 'safe', { customer_ssn: '078-05-1120', api_key: 'k-123', note: 'ok' }));
    await proxy.answerTo(7);
    proxy.closeInput();
    await proxy.exited;
    const [record] = await auditRecords(proxy.auditFile);
    expect(record?.parameters).toEqual({
      customer_ssn: '[REDACTED:ssn]',
      api_key: '[REDACTED:api_key]',
      note: 'ok',
    });
    // The server still got the real arguments: redaction is for the record only.
    const [call] = await recordedCalls(proxy.recordFile);
    expect(JSON.stringify(call)).toContain('078-05-1120');
  });

  it('redacts text matching the patterns given with --redact-value, besides the default ones', async () => {
    const proxy = await start({
      flags: [
        '--redact-value',
        'employee_id=EMP-\\d{6}',
        '--redact-value',
        'pin=PIN (?P<secret>\\d{4})',
      ],
    });
    proxy.send(
      toolCall(8, 'safe', { note: 'EMP-123456 forgot PIN 4321', key: 'AKIAIOSFODNN7EXAMPLE' }),
    );
    await proxy.answerTo(8);
    proxy.closeInput();
    await proxy.exited;
    const [record] = await auditRecords(proxy.auditFile);
    expect(record?.parameters).toEqual({
      note: '[REDACTED:employee_id] forgot PIN [REDACTED:pin]',
      key: '[REDACTED:aws_access_key_id]',
    });
    const [call] = await recordedCalls(proxy.recordFile);
    expect(JSON.stringify(call)).toContain('EMP-123456 forgot PIN 4321');
  });

  it.each([
    ['no kind', '=EMP-\\d+', "--redact-value takes kind=regex, not '=EMP-\\d+'"],
    [
      'a bad regex',
      'ticket=T-(\\d+',
      '--redact-value: redaction pattern ticket: invalid regex "T-(\\d+"',
    ],
    ['a bad kind', 'a b=x', '--redact-value: a redaction kind is 1 to 64 letters'],
  ])(
    'refuses --redact-value with %s, naming it, before starting anything',
    async (_, value, message) => {
      const result = await kvlar(
        ['proxy', '--stdio', '--policy', 'p.yaml', '--redact-value', value, '--', 'true'],
        { cwd: tmpdir() },
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    },
  );

  it('refuses to start on an audit log another kvlar is writing, naming it', async () => {
    const first = await start();
    const second = await launch({ flags: ['--audit', first.auditFile] });
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.stderr()).toContain(`is being written by process ${first.child.pid}`);
    first.closeInput();
    expect((await first.exited).code).toBe(0);
  });
});

describe('kvlar proxy --stdio ends cleanly', () => {
  it('answers every pending call with -32000 when the server dies', async () => {
    const proxy = await start();
    proxy.send(toolCall('slow', 'slow', { ms: 10_000 }));
    proxy.send(toolCall('crash', 'crash', { code: 1 }));
    const slow = await proxy.answerTo('slow');
    const crash = await proxy.answerTo('crash');
    expect(errorOf(slow).code).toBe(-32000);
    expect(errorOf(crash).code).toBe(-32000);
    expect((await proxy.exited).code).not.toBe(0);

    const records = await auditRecords(proxy.auditFile);
    expect(records.map((record) => [record.resource, record.outcome])).toEqual([
      ['slow', 'allowed'],
      ['crash', 'allowed'],
    ]);
    await expectVerified(proxy.auditFile);
  });

  it('exits non-zero when the server exits with code 1 under the client', async () => {
    const proxy = await start();
    proxy.send(toolCall('crash', 'crash', { code: 1 }));
    await proxy.answerTo('crash');
    expect((await proxy.exited).code).toBe(1);
  });

  // BUG: stdio.ts returns the server's code (or 128 + signal), but main.ts's isExitCode only
  // passes 0, 1 and 2 through and turns anything else into 0.
  it('exits non-zero when the server exits with code 3 under the client', async () => {
    const proxy = await start();
    proxy.send(toolCall('crash', 'crash', { code: 3 }));
    await proxy.answerTo('crash');
    expect((await proxy.exited).code).not.toBe(0);
  });

  it('exits non-zero when the server is killed by a signal under the client', async () => {
    const proxy = await start();
    proxy.send(toolCall('crash', 'crash', { signal: 'SIGKILL' }));
    await proxy.answerTo('crash');
    expect((await proxy.exited).code).not.toBe(0);
  });

  it('exits 0 and stops the server when the client closes stdin', async () => {
    const proxy = await start();
    const pid = await serverPid(proxy.recordFile);
    proxy.send(toolCall(1, 'safe'), toolCall(2, 'rm'));
    await proxy.answerTo(2);
    await proxy.answerTo(1);
    proxy.closeInput();
    expect((await proxy.exited).code).toBe(0);
    expect(await waitUntilGone(pid)).toBe(true);
    expect((await auditRecords(proxy.auditFile)).map((record) => record.outcome)).toEqual([
      'allowed',
      'denied',
    ]);
    await expectVerified(proxy.auditFile);
  });

  it('records every call it read before the client closed stdin', async () => {
    const proxy = await start();
    const ids = Array.from({ length: 30 }, (_, index) => index);
    proxy.send(...ids.map((id) => toolCall(id, id % 2 === 0 ? 'safe' : 'rm')));
    proxy.closeInput();
    expect((await proxy.exited).code).toBe(0);
    const records = await auditRecords(proxy.auditFile);
    // Every line was sent before the end of input, so every one was read and decided.
    expect(records).toHaveLength(30);
    expect(records.filter((record) => record.outcome === 'denied')).toHaveLength(15);
    await expectVerified(proxy.auditFile);
  });

  it('kills a server that ignores the end of its stdin and SIGTERM', async () => {
    const proxy = await start({ serverArgs: ['--stubborn'] });
    const pid = await serverPid(proxy.recordFile);
    proxy.closeInput();
    expect((await proxy.exited).code).toBe(0);
    expect(await waitUntilGone(pid)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('exits 0 on %s and stops the server', async (signal) => {
    const proxy = await start();
    const pid = await serverPid(proxy.recordFile);
    proxy.send(toolCall(1, 'safe'), toolCall(2, 'rm'), toolCall(3, 'unknown-tool'));
    await proxy.waitFor((received) =>
      [1, 2, 3].every((id) => received.some((m) => isObject(m) && m.id === id)),
    );
    proxy.child.kill(signal);
    expect((await proxy.exited).code).toBe(0);
    expect(await waitUntilGone(pid)).toBe(true);
    const records = await auditRecords(proxy.auditFile);
    expect(records.map((record) => record.matched_rule)).toEqual([
      'allow-fixture-tools',
      'deny-rm',
      '_default_deny',
    ]);
    await expectVerified(proxy.auditFile);
  });

  it('loses no audit record of a call it answered when SIGTERM comes mid-stream', async () => {
    const proxy = await start();
    const ids = Array.from({ length: 50 }, (_, index) => index);
    proxy.send(...ids.map((id) => toolCall(id, id % 2 === 0 ? 'safe' : 'rm', { n: id })));
    await proxy.waitFor((received) => received.some((m) => isObject(m) && m.id === 0));
    proxy.child.kill('SIGTERM');
    expect((await proxy.exited).code).toBe(0);
    const answered = new Set(
      proxy.received
        .filter((m) => isObject(m) && typeof m.id === 'number')
        .map((m) => (m as JsonObject).id),
    );
    const records = await auditRecords(proxy.auditFile);
    expect(records.length).toBeGreaterThanOrEqual(answered.size);
    const recorded = new Set(
      records.map((record) => (record.parameters as JsonObject | undefined)?.n),
    );
    for (const id of answered) expect(recorded.has(id)).toBe(true);
    await expectVerified(proxy.auditFile);
  });
});
