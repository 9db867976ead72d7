import type { AuditEntry, AuditSink } from '@kvlar/audit';
import { describe, expect, it } from 'vitest';
import type { ApprovalAnswer, Approver } from '../src/approver.js';
import { INVALID_REQUEST_RULE } from '../src/proxy.js';
import { call, engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: test
version: "1"
rules:
  - id: deny-rm
    match_on: { resources: [rm] }
    effect: { type: deny, reason: rm is never allowed }
  - id: deny-secret-reads
    match_on: { resources: [read], parameters: { path: secret } }
    effect: { type: deny, reason: no secrets }
  - id: approve-write
    match_on: { resources: [write] }
    effect: { type: require_approval, reason: writes need a human }
  - id: allow-known
    match_on: { resources: [read, list, echo] }
    effect: { type: allow }
`;

const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'claude', version: '1' },
  },
};

describe('tools/call', () => {
  it('forwards an allowed call rebuilt from what the engine saw, not the received text', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(
      '{ "id" : 1, "jsonrpc":"2.0", "method":"tools/call", "params":{"arguments":{"path":"a"},"name":"read"} }',
    );
    expect(await h.toServer.line(1)).toBe(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","arguments":{"path":"a"}}}',
    );
    expect(h.audit.events).toHaveLength(1);
    expect(h.audit.events[0]).toMatchObject({
      action_type: 'tool_call',
      resource: 'read',
      agent_id: 'mcp-agent',
      outcome: 'allowed',
      matched_rule: 'allow-known',
      session: 'session-1',
    });
  });

  it('answers a denied call with the Rust text and the structured decision, forwarding nothing', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(7, 'rm', { path: '/' }));
    const answer = await h.toClient.message(1);
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: 7, result: { isError: true } });
    const result = answer.result as { content: { text: string }[]; _meta: Record<string, unknown> };
    expect(result.content[0]?.text).toBe(
      '[BLOCKED BY KVLAR]\nTool: rm\nPolicy rule: deny-rm\nReason: rm is never allowed\n\n' +
        'This action was blocked by the Kvlar security policy. Tell the user exactly what was blocked and why.',
    );
    expect(result._meta['kvlar.io/decision']).toEqual({
      code: 'POLICY_DENY',
      decision: 'deny',
      rule_id: 'deny-rm',
      reason: 'rm is never allowed',
      tool: 'rm',
      action_type: 'tool_call',
      policy: 'test',
    });
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.audit.events.map((event) => event.outcome)).toEqual(['denied']);
  });

  it('answers approval-required at once when no approver is configured', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(3, 'write', { path: 'x' }));
    const answer = await h.toClient.message(1);
    const text = (answer.result as { content: { text: string }[] }).content[0]?.text ?? '';
    expect(
      text.startsWith('[KVLAR — APPROVAL REQUIRED]\nTool: write\nPolicy rule: approve-write'),
    ).toBe(true);
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.audit.events.map((event) => event.outcome)).toEqual(['pending_approval']);
  });

  it('denies an unknown tool by default (fail-closed)', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'launch_missiles'));
    const answer = await h.toClient.message(1);
    expect(JSON.stringify(answer)).toContain('POLICY_DEFAULT_DENY');
    await settle();
    expect(h.toServer.lines).toEqual([]);
  });

  it('takes the agent id from clientInfo, and --agent-id over it', async () => {
    const policy = `
name: agents
version: "1"
rules:
  - id: claude-may-echo
    match_on: { resources: [echo], agent_ids: [claude] }
    effect: { type: allow }
`;
    const h = await harness(engineFrom(policy));
    h.fromClient(INIT);
    await h.toServer.line(1);
    h.fromClient(call(1, 'echo'));
    await h.toServer.line(2);
    expect(h.audit.events[0]?.agent_id).toBe('claude');

    const pinned = await harness(engineFrom(policy), { agentId: 'ci-bot' });
    pinned.fromClient(INIT);
    pinned.fromClient(call(1, 'echo'));
    expect(JSON.stringify(await pinned.toClient.message(1))).toContain('_default_deny');
    expect(pinned.audit.events[0]?.agent_id).toBe('ci-bot');
  });

  it('refuses a second initialize, so the agent id cannot be changed mid-session', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(INIT);
    h.fromClient({
      ...INIT,
      id: 1,
      params: { ...INIT.params, clientInfo: { name: 'admin', version: '1' } },
    });
    expect(await h.toClient.message(1)).toMatchObject({ id: 1, error: { code: -32600 } });
    await settle();
    expect(h.toServer.lines).toHaveLength(1);
  });

  it('never forwards a tools/call sent as a notification, and audits the attempt', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'read', arguments: {} } });
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.toClient.lines).toEqual([]);
    expect(h.audit.events[0]).toMatchObject({
      outcome: 'denied',
      matched_rule: '_invalid_request',
      resource: 'read',
    });
  });

  it.each([
    ['a non-string name', { name: ['read'], arguments: {} }, -32602],
    ['array arguments', { name: 'read', arguments: ['a'] }, -32602],
    ['null arguments', { name: 'read', arguments: null }, -32602],
    ['a case-variant key', { name: 'read', Name: 'rm' }, -32602],
    ['an unknown params key', { name: 'read', args: {} }, -32602],
  ])('rejects a tools/call with %s (-32602), forwarding nothing', async (_, params, code) => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient({ jsonrpc: '2.0', id: 9, method: 'tools/call', params });
    expect(await h.toClient.message(1)).toMatchObject({ id: 9, error: { code } });
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.audit.events[0]).toMatchObject({
      outcome: 'denied',
      matched_rule: '_invalid_request',
    });
  });

  it('rejects a tools/call whose arguments hold 1e400 (-32602), forwarding nothing, recording it', async () => {
    const h = await harness(engineFrom(POLICY));
    // JSON.parse reads 1e400 as Infinity; forwarded re-serialised it would reach the server as null.
    h.fromClient(
      '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"read","arguments":{"path":"a","n":[1e400]}}}',
    );
    expect(await h.toClient.message(1)).toMatchObject({ id: 4, error: { code: -32602 } });
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.audit.events[0]).toMatchObject({
      outcome: 'denied',
      matched_rule: '_invalid_request',
      resource: 'read',
    });
  });

  it.each([
    [
      'beside the key a rule names',
      '{"command":"ls","Command":"rm -rf /"}',
      "'command' and 'Command'",
    ],
    [
      'in a nested object',
      '{"target":{"path":"/safe/a","PATH":"/etc/shadow"}}',
      "'path' and 'PATH'",
    ],
    ['in an array', '{"files":[{"path":"a"},{"path":"a","Path":"b"}]}', "'path' and 'Path'"],
    ['spelled with the Kelvin sign', '{"kind":"safe","\\u212aind":"rm"}', "'kind' and '\u212aind'"],
    ['spelled with a long s', '{"ſource":"/etc","source":"/tmp"}', "'ſource' and 'source'"],
  ])(
    'rejects a tools/call whose arguments hold keys that differ only by case, %s (-32602), forwarding nothing, recording it',
    async (_, args, named) => {
      const h = await harness(engineFrom(POLICY));
      h.fromClient(
        `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"read","arguments":${args}}}`,
      );
      const answer = await h.toClient.message(1);
      expect(answer).toMatchObject({ id: 6, error: { code: -32602 } });
      expect((answer.error as { message: string }).message).toContain(named);
      await settle();
      expect(h.toServer.lines).toEqual([]);
      expect(h.audit.events[0]).toMatchObject({
        outcome: 'denied',
        matched_rule: '_invalid_request',
        resource: 'read',
      });
    },
  );

  it('quotes at most 64 characters of a case-variant key in its answer', async () => {
    const h = await harness(engineFrom(POLICY));
    const long = `${'k'.repeat(100)}ey`;
    h.fromClient(call(6, 'read', { [long]: 1, [long.toUpperCase()]: 2 }));
    const { message } = (await h.toClient.message(1)).error as { message: string };
    expect(message).toContain(`'${'k'.repeat(64)}…' and '${'K'.repeat(64)}…'`);
    expect(message).not.toContain(long);
  });

  it('forwards arguments whose keys differ by more than case, or sit in different objects', async () => {
    const h = await harness(engineFrom(POLICY));
    const args = { path: 'a', Path2: 'b', nested: { Path: 'c' }, list: [{ Name: 1 }, { name: 2 }] };
    h.fromClient(call(8, 'read', args));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({
      id: 8,
      params: { arguments: args },
    });
    expect(h.audit.events[0]).toMatchObject({ outcome: 'allowed', resource: 'read' });
  });

  it('rejects duplicate keys, however the key is spelled', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","n\\u0061me":"rm"}}',
    );
    expect(await h.toClient.message(1)).toMatchObject({ id: 1, error: { code: -32602 } });
    h.fromClient(
      '{"jsonrpc":"2.0","id":2,"method":"tools/list","Method":"tools/call","params":{"name":"rm"}}',
    );
    expect(await h.toClient.message(2)).toMatchObject({ id: 2, error: { code: -32600 } });
    await settle();
    expect(h.toServer.lines).toEqual([]);
  });

  it('rejects an id that is already in flight instead of misrouting its answer', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(5, 'read', { path: 'a' }));
    await h.toServer.line(1);
    h.fromClient(call(5, 'rm', { path: '/' }));
    expect(await h.toClient.message(1)).toMatchObject({ id: 5, error: { code: -32600 } });
    await settle();
    expect(h.toServer.lines).toHaveLength(1);
    // The refused call is an attempt at a decided kind: it is recorded, as denied.
    expect(
      h.audit.events.map((event) => [event.resource, event.outcome, event.matched_rule]),
    ).toEqual([
      ['read', 'allowed', 'allow-known'],
      ['rm', 'denied', '_invalid_request'],
    ]);
    // The server's answer still reaches the client, once.
    h.fromServer({ jsonrpc: '2.0', id: 5, result: { content: [] } });
    expect(await h.toClient.message(2)).toEqual({ jsonrpc: '2.0', id: 5, result: { content: [] } });
  });

  it('treats 1 and "1" as different ids', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call('1', 'read', { path: 'b' }));
    await h.toServer.line(2);
    h.fromServer({ jsonrpc: '2.0', id: '1', result: { which: 'string' } });
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { which: 'number' } });
    expect(await h.toClient.message(1)).toMatchObject({ id: '1', result: { which: 'string' } });
    expect(await h.toClient.message(2)).toMatchObject({ id: 1, result: { which: 'number' } });
  });
});

describe('the audit comes first', () => {
  function gatedSink(): AuditSink & { release(): void; entries: AuditEntry[] } {
    const entries: AuditEntry[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    return {
      entries,
      release: () => open(),
      async write(entry) {
        entries.push(entry);
        await gate;
      },
      async close() {},
    };
  }

  it('forwards an allowed call only once its record is accepted', async () => {
    const sink = gatedSink();
    const h = await harness(engineFrom(POLICY), { sink });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await settle(50);
    expect(sink.entries).toHaveLength(1);
    expect(h.toServer.lines).toEqual([]);
    sink.release();
    await h.toServer.line(1);
  });

  it('denies the call when the audit sink fails, and reports it', async () => {
    const failing: AuditSink = {
      write: () => Promise.reject(new Error('disk full')),
      close: async () => {},
    };
    const h = await harness(engineFrom(POLICY), { sink: failing });
    h.fromClient(call(1, 'read', { path: 'a' }));
    const answer = await h.toClient.message(1);
    expect(JSON.stringify(answer)).toContain('_audit_failure');
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(
      h.reports.some(
        (report) => report.code === 'audit_failed' && report.message.includes('disk full'),
      ),
    ).toBe(true);
  });

  it('forwards despite a failed sink with auditFailure allow, still reporting it', async () => {
    const failing: AuditSink = {
      write: () => Promise.reject(new Error('disk full')),
      close: async () => {},
    };
    const h = await harness(engineFrom(POLICY), { sink: failing, auditFailure: 'allow' });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    expect(h.reports.some((report) => report.code === 'audit_failed')).toBe(true);
  });
});

describe('approvals', () => {
  function manualApprover(): Approver & {
    answer(value: ApprovalAnswer): void;
    signals: AbortSignal[];
  } {
    const waiting: ((value: ApprovalAnswer) => void)[] = [];
    const signals: AbortSignal[] = [];
    return {
      signals,
      answer: (value) => waiting.shift()?.(value),
      request(_request, signal) {
        signals.push(signal);
        return new Promise((resolve) => waiting.push(resolve));
      },
    };
  }

  it('holds only the call that waits: later calls go on', async () => {
    const approver = manualApprover();
    const h = await harness(engineFrom(POLICY), { approver });
    h.fromClient(call(1, 'write', { path: 'x' }));
    h.fromClient(call(2, 'read', { path: 'a' }));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 2 });
    approver.answer({ approved: true, approver: 'alice', channel: 'test' });
    expect(JSON.parse(await h.toServer.line(2))).toMatchObject({
      id: 1,
      params: { name: 'write' },
    });
    expect(h.audit.events.map((event) => event.outcome)).toEqual([
      'pending_approval',
      'allowed',
      'allowed',
    ]);
    expect(h.audit.events.find((event) => event.approval !== undefined)?.approval).toEqual({
      approver: 'alice',
      channel: 'test',
      decision: 'approved',
      latency_ms: 0,
    });
  });

  it('denies with the reviewer reason when the approver says no', async () => {
    const approver = manualApprover();
    const h = await harness(engineFrom(POLICY), { approver });
    h.fromClient(call(1, 'write', { path: 'x' }));
    await settle();
    approver.answer({ approved: false, reason: 'not today', approver: 'bob', channel: 'test' });
    expect(JSON.stringify(await h.toClient.message(1))).toContain('not today');
    expect(h.toServer.lines).toEqual([]);
  });

  it('denies when no answer comes in time', async () => {
    const approver = manualApprover();
    const h = await harness(engineFrom(POLICY), { approver, approvalTimeoutMs: 50 });
    h.fromClient(call(1, 'write', { path: 'x' }));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('no approval within');
    expect(approver.signals[0]?.aborted).toBe(true);
    expect(h.toServer.lines).toEqual([]);
  });

  it('never forwards a held call the client cancelled, even if approved later', async () => {
    const approver = manualApprover();
    const h = await harness(engineFrom(POLICY), { approver });
    h.fromClient(call(1, 'write', { path: 'x' }));
    await settle();
    h.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await settle();
    expect(approver.signals[0]?.aborted).toBe(true);
    approver.answer({ approved: true, approver: 'late', channel: 'test' });
    await settle(50);
    expect(h.toServer.lines).toEqual([]);
    expect(h.toClient.lines).toEqual([]);
  });

  it('drops a server answer to a call it never received (held for approval)', async () => {
    const approver = manualApprover();
    const h = await harness(engineFrom(POLICY), { approver });
    h.fromClient(call(1, 'write', { path: 'x' }));
    await settle();
    h.fromServer({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'pre-empted' }] },
    });
    await settle();
    expect(h.toClient.lines).toEqual([]);
    expect(h.reports.some((report) => report.code === 'unexpected_response')).toBe(true);
  });
});

describe('tools/list', () => {
  const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
  const TOOLS = {
    jsonrpc: '2.0',
    id: 1,
    result: {
      tools: ['read', 'rm', 'write', 'other', 'list'].map((name) => ({ name, inputSchema: {} })),
    },
  };

  it('hides the tools the policy always denies for this agent', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(LIST);
    await h.toServer.line(1);
    h.fromServer(TOOLS);
    const names = ((await h.toClient.message(1)).result as { tools: { name: string }[] }).tools.map(
      (tool) => tool.name,
    );
    // `read` is denied only for some arguments, `write` needs approval: both stay.
    expect(names).toEqual(['read', 'write', 'list']);
  });

  it('keeps them all with filterTools off, and in shadow mode', async () => {
    for (const options of [{ filterTools: false }, { mode: 'audit' as const }]) {
      const h = await harness(engineFrom(POLICY), options);
      h.fromClient(LIST);
      await h.toServer.line(1);
      h.fromServer(TOOLS);
      expect((await h.toClient.message(1)).result).toEqual(TOOLS.result);
    }
  });
});

describe('large answers', () => {
  it("relays a large answer as the server's exact bytes, without reading it", async () => {
    const h = await harness(engineFrom(POLICY), { lazyMessageBytes: 64 });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    // `tru` is not JSON: read in full this answer would be refused; unread, it passes as sent.
    const text = `{ "result" : {"content":[{"type":"text","text":"${'x'.repeat(500)} } ] \\" "}], "ok": tru},"jsonrpc":"2.0","id":1 }`;
    h.fromServer(text);
    expect(await h.toClient.line(1)).toBe(text);
    // The same answer below the threshold is read, refused, and the call answered with an error.
    const strict = await harness(engineFrom(POLICY));
    strict.fromClient(call(1, 'read', { path: 'a' }));
    await strict.toServer.line(1);
    strict.fromServer(text);
    expect(await strict.toClient.message(1)).toMatchObject({ id: 1, error: { code: -32000 } });
  });

  it('relays a large answer that came in several reads as the same bytes, however they were cut', async () => {
    const text = `{"result":{"content":[{"type":"text","text":"😀${'x'.repeat(200)}"}], "ok": tru},"jsonrpc":"2.0","id":1}`;
    const bytes = Buffer.from(text);
    for (const at of [1, bytes.indexOf('😀') + 2, 100, bytes.length - 2]) {
      const h = await harness(engineFrom(POLICY), { lazyMessageBytes: 64 });
      h.fromClient(call(1, 'read', { path: 'a' }));
      await h.toServer.line(1);
      h.fromServerReads([bytes.subarray(0, at), bytes.subarray(at), '\r', '\n']);
      expect(await h.toClient.line(1)).toBe(text);
    }
  });

  it('reads a large answer holding a raw \\r in full, and forwards all of it', async () => {
    // A bare \r is JSON whitespace, but no line may carry it on: the answer is re-serialised,
    // so it must have been read, not relayed from its envelope.
    const h = await harness(engineFrom(POLICY), { lazyMessageBytes: 64 });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    const result = { content: [{ type: 'text', text: 'w'.repeat(200) }] };
    h.fromServer(`{"result":${JSON.stringify(result)},\r"jsonrpc":"2.0","id":1}`);
    expect(await h.toClient.message(1)).toEqual({ jsonrpc: '2.0', id: 1, result });
  });

  it('reads a large tools/list answer in full, to filter it', async () => {
    const h = await harness(engineFrom(POLICY), { lazyMessageBytes: 64 });
    h.fromClient({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await h.toServer.line(1);
    const tools = ['read', 'rm'].map((name) => ({
      name,
      description: 'd'.repeat(100),
      inputSchema: {},
    }));
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { tools } });
    const answer = await h.toClient.message(1);
    expect((answer.result as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toEqual(
      ['read'],
    );
  });

  it('reads a large answer in full when it answers nothing pending, and drops it', async () => {
    const h = await harness(engineFrom(POLICY), { lazyMessageBytes: 64 });
    h.fromServer({
      jsonrpc: '2.0',
      id: 99,
      result: { content: [{ type: 'text', text: 'y'.repeat(200) }] },
    });
    await settle();
    expect(h.toClient.lines).toEqual([]);
    expect(h.reports.some((report) => report.code === 'unexpected_response')).toBe(true);
  });
});

describe('shadow mode', () => {
  it('forwards what it would deny, and records the real decision', async () => {
    const h = await harness(engineFrom(POLICY), { mode: 'audit' });
    h.fromClient(call(1, 'rm', { path: '/' }));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 1, params: { name: 'rm' } });
    expect(h.audit.events[0]).toMatchObject({
      outcome: 'denied',
      matched_rule: 'deny-rm',
      shadow: true,
    });
  });

  it('marks no record as shadow when enforcing', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'rm', { path: '/' }));
    await h.toClient.line(1);
    expect(h.audit.events[0]).not.toHaveProperty('shadow');
  });
});

describe('other kinds of request', () => {
  const READ = {
    jsonrpc: '2.0',
    id: 4,
    method: 'resources/read',
    params: { uri: 'file:///etc/passwd' },
  };

  it('forwards resources/read unevaluated when the policy never names resource_read (Rust behaviour)', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(READ);
    expect(JSON.parse(await h.toServer.line(1))).toEqual(READ);
    expect(h.audit.events).toEqual([]);
  });

  it('decides resources/read when the policy opts in', async () => {
    const policy = `
name: resources
version: "1"
rules:
  - id: only-docs
    match_on: { action_types: [resource_read], resources: ["file:///docs/*"] }
    effect: { type: allow }
  - id: allow-tools
    match_on: { action_types: [tool_call] }
    effect: { type: allow }
`;
    const h = await harness(engineFrom(policy));
    h.fromClient(READ);
    const answer = await h.toClient.message(1);
    expect(answer).toMatchObject({ id: 4, error: { code: -32001 } });
    expect(JSON.stringify(answer)).toContain('_default_deny');
    h.fromClient({ ...READ, id: 5, params: { uri: 'file:///docs/a.md' } });
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 5 });
    expect(h.audit.events.map((event) => [event.action_type, event.outcome])).toEqual([
      ['resource_read', 'denied'],
      ['resource_read', 'allowed'],
    ]);
  });

  it('decides every kind under strict, denying what no rule allows', async () => {
    const h = await harness(engineFrom(POLICY), { strict: true });
    h.fromClient(READ);
    expect(await h.toClient.message(1)).toMatchObject({ id: 4, error: { code: -32001 } });
    expect(h.toServer.lines).toEqual([]);
  });

  it('decides a server sampling request when the policy names sampling', async () => {
    const policy = `
name: sampling
version: "1"
rules:
  - id: no-sampling
    match_on: { action_types: [sampling] }
    effect: { type: deny, reason: servers may not drive the model }
`;
    const h = await harness(engineFrom(policy));
    h.fromServer({
      jsonrpc: '2.0',
      id: 'srv-1',
      method: 'sampling/createMessage',
      params: { messages: [], maxTokens: 10 },
    });
    expect(await h.toServer.message(1)).toMatchObject({ id: 'srv-1', error: { code: -32001 } });
    await settle();
    expect(h.toClient.lines).toEqual([]);
  });

  it('relays a server request and routes the client answer back', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromServer({ jsonrpc: '2.0', id: 'r1', method: 'roots/list' });
    expect(await h.toClient.message(1)).toEqual({ jsonrpc: '2.0', id: 'r1', method: 'roots/list' });
    h.fromClient({ jsonrpc: '2.0', id: 'r1', result: { roots: [] } });
    expect(await h.toServer.message(1)).toEqual({
      jsonrpc: '2.0',
      id: 'r1',
      result: { roots: [] },
    });
  });

  it('refuses a method that is not MCP, and drops an unknown notification', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient({ jsonrpc: '2.0', id: 1, method: 'shell/exec', params: { command: 'rm -rf /' } });
    expect(await h.toClient.message(1)).toMatchObject({ id: 1, error: { code: -32601 } });
    h.fromClient({ jsonrpc: '2.0', method: 'notifications/exec', params: {} });
    await settle();
    expect(h.toServer.lines).toEqual([]);
  });
});

describe("the server's messages", () => {
  it.each([
    ['a repeated id', '{"jsonrpc":"2.0","id":77,"id":1,"result":{"content":[]}}'],
    [
      'a repeated result',
      '{"jsonrpc":"2.0","id":1,"result":{"content":[]},"result":{"isError":true}}',
    ],
    ['a repeated id, escaped', '{"jsonrpc":"2.0","\\u0069d":77,"id":1,"result":{"content":[]}}'],
  ])('refuses an answer with %s: the client gets an error, never those bytes', async (_, text) => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    h.fromServer(text);
    const answer = await h.toClient.message(1);
    expect(answer).toMatchObject({ id: 1, error: { code: -32000 } });
    expect((answer.error as { message: string }).message).toContain('duplicate key');
    await settle();
    expect(h.toClient.lines).toHaveLength(1);
  });

  it('relays an answer with a key repeated inside its result as sent: nothing decides on it', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    const text = '{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":false,"isError":true}}';
    h.fromServer(text);
    expect(await h.toClient.line(1)).toBe(text);
  });

  it('refuses a server request with a repeated method, relaying nothing to the client', async () => {
    const h = await harness(engineFrom(POLICY));
    // A client that keeps the first of two keys would read a sampling request nobody decided.
    h.fromServer(
      '{"jsonrpc":"2.0","id":"s2","method":"sampling/createMessage","params":{"messages":[],"maxTokens":10},"method":"ping"}',
    );
    expect(await h.toServer.message(1)).toMatchObject({ id: 's2', error: { code: -32600 } });
    h.fromServer('{"jsonrpc":"2.0","method":"notifications/message","method":"ping","params":{}}');
    await settle();
    expect(h.toClient.lines).toEqual([]);
    expect(h.toServer.lines).toHaveLength(1);
  });
});

describe('batches', () => {
  it('handles each element as if it came alone and answers them together', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient([
      call(1, 'read', { path: 'a' }),
      call(2, 'rm', { path: '/' }),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    ]);
    expect(JSON.parse(await h.toServer.line(1))).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    });
    expect(JSON.parse(await h.toServer.line(2))).toMatchObject({ id: 1, params: { name: 'read' } });
    await settle();
    expect(h.toServer.lines).toHaveLength(2);
    expect(h.toClient.lines).toEqual([]);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    const answers = JSON.parse(await h.toClient.line(1)) as { id: number }[];
    expect(answers.map((answer) => answer.id).sort()).toEqual([1, 2]);
  });

  it('answers the rest of a batch when one of its calls is cancelled while held (fuzz regression)', async () => {
    const sink: AuditSink = {
      write: () => new Promise((resolve) => setTimeout(resolve, 30)),
      close: async () => {},
    };
    const h = await harness(engineFrom(POLICY), { sink });
    h.fromClient([call('1', 'read', { path: 'a' }), call(1, 'read', { path: 'b' })]);
    h.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: '1' } });
    const forwarded = JSON.parse(await h.toServer.line(1)) as { id: unknown };
    expect(forwarded.id).toBe(1);
    h.fromServer({ jsonrpc: '2.0', id: 1, result: { content: [] } });
    expect(JSON.parse(await h.toClient.line(1))).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [] } },
    ]);
    await settle(60);
    expect(h.toServer.lines).toHaveLength(1);
  });

  it('answers an empty batch with invalid request', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient('[]');
    expect(await h.toClient.message(1)).toMatchObject({ id: null, error: { code: -32600 } });
  });
});

describe('faults', () => {
  it('answers malformed JSON with -32700 and id null, and goes on', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(await h.toClient.message(1)).toMatchObject({ id: null, error: { code: -32700 } });
    h.fromClient(call(2, 'read', { path: 'a' }));
    await h.toServer.line(1);
  });

  it('records each client message it cannot read at all as a denied unreadable attempt', async () => {
    const h = await harness(engineFrom(POLICY));
    const attempt = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read' } };
    const json = JSON.stringify(attempt);
    const unreadable = [
      `${json.slice(0, -1)},}`, // not JSON
      `[[${json}]]`, // a batch inside a batch
      json.replace('"method"', '"Method"'), // what a lenient server would read as the method
      json.replace('"tools/call"', '["tools/call"]'),
      '{"jsonrpc":"2.0","id":7}',
    ];
    for (const line of unreadable) h.fromClient(line);
    await h.toClient.line(unreadable.length);
    const answers = (h.toClient.messages as Record<string, unknown>[]).flat();
    expect(answers.map((answer) => (answer.error as { code: number }).code)).toEqual([
      -32700, -32600, -32600, -32600, -32600,
    ]);
    expect(h.audit.events.map((event) => [event.action_type, event.outcome])).toEqual(
      unreadable.map(() => ['unreadable', 'denied']),
    );
    expect(h.audit.events.every((event) => event.matched_rule === INVALID_REQUEST_RULE)).toBe(true);
    expect(h.audit.events.map((event) => event.reason)).toEqual(
      answers.map((answer) =>
        (answer.error as { message: string }).message.replace('[KVLAR] ', ''),
      ),
    );
    // Nothing of them reached the server: the next call is the first line it reads.
    h.fromClient(call(9, 'read', { path: 'a' }));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 9 });
    expect(h.toServer.lines).toHaveLength(1);
  });

  it('answers every forwarded request when the server goes away, then closes', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call(2, 'echo'));
    await h.toServer.line(2);
    h.serverEnds();
    const answers = [await h.toClient.message(1), await h.toClient.message(2)];
    expect(answers.map((answer) => [answer.id, (answer.error as { code: number }).code])).toEqual([
      [1, -32000],
      [2, -32000],
    ]);
    expect(await h.proxy.closed).toEqual({ reason: 'upstream_closed' });
  });

  it('ends the session when the client goes away', async () => {
    const h = await harness(engineFrom(POLICY));
    h.clientEnds();
    expect(await h.proxy.closed).toEqual({ reason: 'client_closed' });
  });

  it('counts its decisions', async () => {
    const h = await harness(engineFrom(POLICY));
    h.fromClient(call(1, 'read', { path: 'a' }));
    h.fromClient(call(2, 'rm'));
    h.fromClient(call(3, 'write'));
    await h.toClient.line(2);
    expect({ ...h.proxy.stats }).toEqual({ evaluated: 3, allowed: 1, denied: 1, approval: 1 });
  });
});

describe('observers', () => {
  it('tells onAnswered how long the server took to answer a forwarded call', async () => {
    const events: { method: string; ok: boolean; roundTripMs: number }[] = [];
    const h = await harness(engineFrom(POLICY), { onAnswered: (event) => events.push(event) });
    h.fromClient(call(1, 'read', { path: 'a' }));
    await h.toServer.line(1);
    await settle(20);
    h.fromServer({ jsonrpc: '2.0', id: 1, error: { code: -1, message: 'nope' } });
    await h.toClient.line(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ method: 'tools/call', ok: false });
    expect(events[0]?.roundTripMs).toBeGreaterThanOrEqual(15);
  });
});
