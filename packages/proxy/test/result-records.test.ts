import type { AuditEvent, AuditSink } from '@kvlar/audit';
import { describe, expect, it } from 'vitest';
import type { ApprovalAnswer, Approver } from '../src/approver.js';
import { call, engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: test
version: "1"
rules:
  - id: deny-rm
    match_on: { resources: [rm] }
    effect: { type: deny, reason: rm is never allowed }
  - id: approve-write
    match_on: { resources: [write] }
    effect: { type: require_approval, reason: writes need a human }
  - id: allow-known
    match_on: { resources: [read, echo] }
    effect: { type: allow }
`;

/** A clock the test moves. */
function manualClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const results = (events: readonly AuditEvent[]) =>
  events.filter((event) => event.upstream !== undefined);
const decisions = (events: readonly AuditEvent[]) =>
  events.filter((event) => event.upstream === undefined);

describe('result records (auditResults)', () => {
  it('are off by default: one record per call', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    await h.toClient.line(1);
    await settle();
    expect(h.audit.events).toHaveLength(1);
    expect(h.audit.events[0]).not.toHaveProperty('call_id');
  });

  it('record what the server answered, linked to the decision by call_id, after the answer', async () => {
    const clock = manualClock();
    const h = await harness(engineFrom(POLICY), { auditResults: true, clock: clock.now });
    h.fromClient(call(1, 'read', { path: 'a', token: 'x' }));
    await h.toServer.line(1);
    clock.advance(42);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }] } });
    expect(await h.toClient.message(1)).toMatchObject({ id: 1, result: { content: [{}] } });
    await settle();
    const [decision, result] = h.audit.events;
    expect(h.audit.events).toHaveLength(2);
    expect(decision).toMatchObject({ outcome: 'allowed', resource: 'read' });
    expect(decision).not.toHaveProperty('call_id');
    expect(result).toMatchObject({
      action_type: 'tool_call',
      resource: 'read',
      agent_id: 'mcp-agent',
      outcome: 'allowed',
      matched_rule: 'allow-known',
      session: 'session-1',
      call_id: decision?.id,
      upstream: { ok: true, duration_ms: 42 },
    });
    // The call's arguments are in its decision record; the result repeats none of them.
    expect(result).not.toHaveProperty('parameters');
    expect(result).not.toHaveProperty('reason');
    expect(result?.prev_hash).toBe(decision?.hash);
  });

  it('record a JSON-RPC error and a tool result with isError as failures, with their text', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true });
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call(2, 'echo'));
    await h.toServer.line(2);
    h.fromServer({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'unknown path' } });
    h.fromServer({
      jsonrpc: '2.0',
      id: 2,
      result: {
        isError: true,
        content: [
          { type: 'text', text: 'ENOENT: no such file' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'text', text: 'second line' },
        ],
      },
    });
    await h.toClient.line(2);
    await settle();
    expect(results(h.audit.events).map((event) => event.upstream)).toEqual([
      { ok: false, error: 'unknown path (JSON-RPC -32602)', duration_ms: 0 },
      { ok: false, error: 'ENOENT: no such file\nsecond line', duration_ms: 0 },
    ]);
  });

  it('cut a long error text, and redact secrets in it like any other text', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    const key = 'AKIAIOSFODNN7EXAMPLE';
    h.fromServer({
      jsonrpc: '2.0',
      id: 1,
      result: {
        isError: true,
        content: [{ type: 'text', text: `bad key ${key} ${'x'.repeat(5000)}` }],
      },
    });
    await h.toClient.line(1);
    await settle();
    const error = results(h.audit.events)[0]?.upstream?.error ?? '';
    expect(error).not.toContain(key);
    expect(error).toMatch(/^bad key \[REDACTED:[a-z_]+\] x+…$/);
    expect(error.length).toBeLessThan(1100);
  });

  it('read isError of a large answer from its bytes, relaying them unchanged', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true, lazyMessageBytes: 64 });
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call(2, 'read', { path: 'b' }));
    await h.toServer.line(2);
    const failed = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"${'e'.repeat(200)}"}],"isError":true}}`;
    const fine = `{"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"\\"isError\\":true ${'o'.repeat(200)}"}]}}`;
    h.fromServer(failed);
    h.fromServer(fine);
    expect(await h.toClient.line(1)).toBe(failed);
    expect(await h.toClient.line(2)).toBe(fine);
    await settle();
    expect(results(h.audit.events).map((event) => event.upstream?.ok)).toEqual([false, true]);
    expect(results(h.audit.events)[0]?.upstream?.error).toContain('relayed unread');
  });

  it('record nothing for a call that was not forwarded', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true });
    h.fromClient(call(1, 'rm', { path: '/' }));
    h.fromClient(call(2, 'write', { path: 'x' }));
    await h.toClient.line(2);
    await settle();
    expect(h.audit.events.map((event) => event.outcome)).toEqual(['denied', 'pending_approval']);
    expect(results(h.audit.events)).toEqual([]);
  });

  it('record what a call forwarded in shadow mode did, under the decision it would have had', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true, mode: 'audit' });
    h.fromClient(call(1, 'rm', { path: '/' }));
    await h.toServer.line(1);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    await h.toClient.line(1);
    await settle();
    expect(results(h.audit.events)[0]).toMatchObject({
      outcome: 'denied',
      matched_rule: 'deny-rm',
      shadow: true,
      upstream: { ok: true },
    });
  });

  it('link the approval and the result of an approved call to its decision', async () => {
    let answer: (value: ApprovalAnswer) => void = () => {};
    const approver: Approver = {
      request: () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    };
    const h = await harness(engineFrom(POLICY), { auditResults: true, approver });
    h.fromClient(call(1, 'write', { path: 'x' }));
    await settle();
    answer({ approved: true, approver: 'alice', channel: 'test' });
    await h.toServer.line(1);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    await h.toClient.line(1);
    await settle();
    const [decision, approval, result] = h.audit.events;
    expect(h.audit.events.map((event) => event.outcome)).toEqual([
      'pending_approval',
      'allowed',
      'allowed',
    ]);
    expect(approval).toMatchObject({ call_id: decision?.id, approval: { approver: 'alice' } });
    expect(result).toMatchObject({ call_id: decision?.id, upstream: { ok: true } });
    expect(decisions(h.audit.events)).toHaveLength(2);
  });

  it('record the calls the server never answered when it goes away, before the session ends', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true });
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call(2, 'echo'));
    await h.toServer.line(2);
    h.serverEnds();
    expect(await h.proxy.closed).toEqual({ reason: 'upstream_closed' });
    // `closed` resolves only once they are written.
    const closedEarly = { ok: false, error: 'the server closed the connection before answering' };
    expect(results(h.audit.events).map((event) => [event.resource, event.upstream])).toEqual([
      ['read', { ...closedEarly, duration_ms: 0 }],
      ['echo', { ...closedEarly, duration_ms: 0 }],
    ]);
  });

  it('record a call the client cancelled, and drop the late answer', async () => {
    const h = await harness(engineFrom(POLICY), { auditResults: true });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    h.fromClient({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'user pressed stop' },
    });
    await h.toServer.line(2);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    await settle();
    expect(h.toClient.lines).toEqual([]);
    expect(results(h.audit.events).map((event) => event.upstream)).toEqual([
      { ok: false, error: 'cancelled by the client before an answer came', duration_ms: 0 },
    ]);
  });

  it('never hold an answer back for its result record, and report a record that failed', async () => {
    let failResults = true;
    const written: string[] = [];
    const sink: AuditSink = {
      async write(entry) {
        if (entry.upstream !== undefined && failResults) {
          await settle(20);
          throw new Error('disk full');
        }
        written.push(entry.resource);
      },
      async close() {},
    };
    const h = await harness(engineFrom(POLICY), { auditResults: true, sink });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    expect(await h.toClient.message(1)).toMatchObject({ id: 1, result: {} });
    await settle(60);
    expect(
      h.reports.some(
        (report) =>
          report.code === 'audit_failed' &&
          report.message.includes("result of a call to 'read'") &&
          report.message.includes('disk full'),
      ),
    ).toBe(true);
    // The session goes on.
    failResults = false;
    h.fromClient(call(2, 'echo'));
    await h.toServer.line(2);
    h.fromServer({ jsonrpc: '2.0', id: 2, result: { content: [] } });
    await h.toClient.line(2);
    await settle();
    expect(written).toEqual(['read', 'echo', 'echo']);
  });
});
