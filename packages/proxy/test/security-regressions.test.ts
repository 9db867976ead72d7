/**
 * Attacks from docs/security.md that no other test covered: ids the proxy cannot relay exactly,
 * look-alike tool names, a server that never answers, a client that leaves while a call waits for
 * a person. Each test is cited by a row of scripts/security-rows.mjs.
 */
import { describe, expect, it } from 'vitest';
import { createApprovalQueue } from '../src/approval-queue.js';
import { call, engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: deny-list
version: "1"
rules:
  - id: deny-bash
    match_on: { resources: [bash, café] }
    effect: { type: deny, reason: no shell }
  - id: approve-write
    match_on: { resources: [write] }
    effect: { type: require_approval, reason: writes need a human }
  - id: allow-everything-else
    match_on: { resources: ["*"] }
    effect: { type: allow }
`;

describe('ids the proxy cannot relay exactly', () => {
  it('refuses a request id beyond 2^53 and forwards nothing, since its answer would carry another id', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(
      '{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/call","params":{"name":"read"}}',
    );
    h.fromClient('{"jsonrpc":"2.0","id":1e300,"method":"ping"}');
    const answers = [await h.toClient.message(1), await h.toClient.message(2)];
    for (const answer of answers) {
      expect(answer).toMatchObject({ id: null, error: { code: -32600 } });
      expect(JSON.stringify(answer)).toContain('2^53');
    }
    await settle();
    expect(h.toServer.lines).toEqual([]);
    // The same id as a string is exact, so it is relayed and its answer routed back.
    h.fromClient(call('9007199254740993', 'read'));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: '9007199254740993' });
    h.fromServer({ jsonrpc: '2.0', id: '9007199254740993', result: { content: [] } });
    expect(await h.toClient.message(3)).toEqual({
      jsonrpc: '2.0',
      id: '9007199254740993',
      result: { content: [] },
    });
  });
});

describe('look-alike tool names', () => {
  const lookAlikes = [
    ['a Cyrillic а', 'b\u0430sh'],
    ['full-width letters', '\uff42\uff41\uff53\uff48'],
    ['a zero-width space', 'bash\u200b'],
    ['upper case', 'BASH'],
    ['a decomposed é (NFD) for a policy written composed (NFC)', 'cafe\u0301'],
  ];

  it.each(lookAlikes)(
    'forwards a tool name with %s exactly as the engine decided it, never as the tool it imitates',
    async (_what, name) => {
      const h = await harness(engineFrom(POLICY));
      h.fromClient(call(1, name, { command: 'id' }));
      const forwarded = JSON.parse(await h.toServer.line(1)) as {
        params: { name: string; arguments: unknown };
      };
      // The server receives the very string the policy was asked about, code unit for code unit.
      expect(forwarded.params).toEqual({ name, arguments: { command: 'id' } });
      expect(h.audit.events.map((event) => [event.resource, event.matched_rule])).toEqual([
        [name, 'allow-everything-else'],
      ]);
    },
  );

  it('denies the tools themselves, and a name written with JSON escapes as the name it decodes to', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'bash', { command: 'id' }));
    h.fromClient(call(2, 'caf\u00e9'));
    h.fromClient('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"\\u0062ash"}}');
    for (const count of [1, 2, 3]) {
      expect(JSON.stringify(await h.toClient.message(count))).toContain('[BLOCKED BY KVLAR]');
    }
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.audit.events.map((event) => [event.resource, event.matched_rule])).toEqual([
      ['bash', 'deny-bash'],
      ['caf\u00e9', 'deny-bash'],
      ['bash', 'deny-bash'],
    ]);
  });
});

describe('a server that never answers', () => {
  it('keeps the call pending until the client cancels it, passes the cancellation on and drops a late answer', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    await settle(100);
    // No answer was made up while the server was silent.
    expect(h.toClient.lines).toEqual([]);
    h.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    expect(JSON.parse(await h.toServer.line(2))).toMatchObject({
      method: 'notifications/cancelled',
      params: { requestId: 1 },
    });
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'late' }] } });
    await settle();
    expect(h.toClient.lines).toEqual([]);
    expect(h.reports.some((report) => report.code === 'unexpected_response')).toBe(true);
    // The session goes on: the id is free again and a new call is relayed.
    h.fromClient(call(1, 'read', { path: 'b' }));
    await h.toServer.line(3);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    expect(await h.toClient.message(1)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [] } });
  });
});

describe('a client that goes away while a call waits for a person', () => {
  it('withdraws the held call from the approvals queue, so a late approval cannot run it', async () => {
    const queue = createApprovalQueue();
    const h = await harness(engineFrom(POLICY), { approver: queue });
    h.fromClient(call(1, 'write', { path: '/srv/x' }));
    for (let i = 0; i < 100 && queue.list().length === 0; i++) await settle(10);
    const [held] = queue.list();
    expect(held).toMatchObject({ tool: 'write' });
    h.clientEnds();
    expect(await h.proxy.closed).toEqual({ reason: 'client_closed' });
    expect(queue.list()).toEqual([]);
    const late = queue.decide(held?.id ?? '', {
      approved: true,
      approver: 'late reviewer',
      channel: 'test',
    });
    expect(late).toEqual({ ok: false, reason: 'not_found' });
    await settle();
    expect(h.toServer.lines).toEqual([]);
  });
});
