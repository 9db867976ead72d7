import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRedactor, DEFAULT_REDACTED_KEYS, DEFAULT_SECRET_PATTERNS } from '@kvlar/audit';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookApprover, signWebhookBody } from '../src/webhook-approver.js';
import { call, engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: approvals
version: "1"
rules:
  - id: approve-send
    match_on: { resources: [send_email] }
    effect: { type: require_approval, reason: emails need a human }
`;

interface Hook {
  readonly url: string;
  readonly requests: { headers: IncomingMessage['headers']; body: string }[];
  /** Resolves once a request was aborted by the proxy. */
  readonly aborted: Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function webhook(answer: (body: string, response: ServerResponse) => void): Promise<Hook> {
  const requests: Hook['requests'] = [];
  let onAbort: () => void = () => {};
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
  });
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      requests.push({ headers: request.headers, body });
      response.on('close', () => {
        if (!response.writableFinished) onAbort();
      });
      answer(body, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/approve`, requests, aborted };
}

const json = (status: number, value: unknown) => (_: string, response: ServerResponse) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(typeof value === 'string' ? value : JSON.stringify(value));
};

describe('the webhook approver (Rust protocol)', () => {
  it('posts the Rust fields, signed, and forwards the call once approved', async () => {
    const hook = await webhook(json(200, { decision: 'approved' }));
    const approver = createWebhookApprover({
      url: hook.url,
      secret: 's3cret',
      clock: () => 1_790_000_000_000,
    });
    const h = await harness(engineFrom(POLICY), { approver, clock: () => 1_790_000_000_000 });
    h.fromClient(call(1, 'send_email', { to: 'boss@example.com' }));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({
      id: 1,
      params: { name: 'send_email' },
    });
    const [request] = hook.requests;
    expect(JSON.parse(request?.body ?? '')).toEqual({
      // approval-1 is the id of the call's decision record.
      request_id: 'approval-2',
      tool_name: 'send_email',
      tool_arguments: { to: 'boss@example.com' },
      rule_id: 'approve-send',
      reason: 'emails need a human',
      agent_id: 'mcp-agent',
      requested_at: new Date(1_790_000_000_000).toISOString(),
      action_type: 'tool_call',
      server: '',
    });
    expect(request?.headers['x-kvlar-timestamp']).toBe('1790000000');
    expect(request?.headers['x-kvlar-signature']).toBe(
      signWebhookBody('s3cret', '1790000000', request?.body ?? ''),
    );
    expect(h.audit.events.map((event) => [event.outcome, event.approval?.decision])).toEqual([
      ['pending_approval', undefined],
      ['allowed', 'approved'],
    ]);
    expect(h.audit.events[1]?.approval).toMatchObject({
      channel: 'webhook',
      approver: new URL(hook.url).host,
    });
  });

  it('sends the arguments as the approvals page shows them, and forwards them whole', async () => {
    const hook = await webhook(json(200, { decision: 'approved' }));
    const redactor = createRedactor({
      keys: DEFAULT_REDACTED_KEYS,
      values: DEFAULT_SECRET_PATTERNS,
    });
    const token = `ghp_${'a1B2'.repeat(9)}`;
    const args = {
      to: 'boss@example.com',
      password: 'hunter22',
      body: `use ${token} to push`,
      headers: { 'X-Api-Key': 'k9f8e7d6c5' },
    };
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url, redact: redactor.value }),
    });
    h.fromClient(call(1, 'send_email', args));
    // The server gets the call as the client sent it; only what the webhook is told is redacted.
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({
      params: { name: 'send_email', arguments: args },
    });
    const sent = JSON.parse(hook.requests[0]?.body ?? '') as { tool_arguments: unknown };
    const text = JSON.stringify(sent.tool_arguments);
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain(token);
    expect(text).not.toContain('k9f8e7d6c5');
    expect(sent.tool_arguments).toMatchObject({ to: 'boss@example.com' });
    // Exactly what the approvals page shows of the same call.
    expect(sent.tool_arguments).toEqual(redactor.value(args, { approverView: true }));
  });

  it('denies, sending nothing, when the redactor does not return an object', async () => {
    const hook = await webhook(json(200, { decision: 'approved' }));
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url, redact: () => '[REDACTED]' }),
    });
    h.fromClient(call(1, 'send_email', { to: 'x' }));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('[BLOCKED BY KVLAR]');
    await settle();
    expect(hook.requests).toEqual([]);
    expect(h.toServer.lines).toEqual([]);
  });

  it("denies with the reviewer's reason", async () => {
    const hook = await webhook(json(200, { decision: 'denied', reason: 'not to the boss' }));
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url }),
    });
    h.fromClient(call(1, 'send_email', {}));
    const text = JSON.stringify(await h.toClient.message(1));
    expect(text).toContain('[BLOCKED BY KVLAR]');
    expect(text).toContain('not to the boss');
    expect(h.toServer.lines).toEqual([]);
  });

  it.each([
    ['an HTTP error', json(500, { decision: 'approved' })],
    ['a body that is not JSON', json(200, 'yes')],
    ['no decision', json(200, { approved: true })],
    ['a redirect', json(302, { decision: 'approved' })],
    // JSON.parse keeps the last; a reader that keeps the first would have seen a denial.
    ['a decision given twice', json(200, '{"decision":"denied","decision":"approved"}')],
    ['a key given twice anywhere', json(200, '{"decision":"approved","x":{"a":1,"a":2}}')],
    [
      'an answer longer than 64 KiB, whatever it ends with',
      json(200, `${' '.repeat(1024 * 1024)}{"decision":"approved"}`),
    ],
  ])('denies on %s (fail-closed)', async (_, answer) => {
    const hook = await webhook(answer);
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url }),
    });
    h.fromClient(call(1, 'send_email', {}));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('[BLOCKED BY KVLAR]');
    await settle();
    expect(h.toServer.lines).toEqual([]);
    expect(h.reports.some((report) => report.code === 'approver_failed')).toBe(true);
  });

  it('reads an answer of up to 64 KiB', async () => {
    const hook = await webhook(json(200, `${' '.repeat(64 * 1024 - 30)}{"decision":"approved"}`));
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url }),
    });
    h.fromClient(call(1, 'send_email', {}));
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 1 });
  });

  it('stops reading an endless answer at 64 KiB and denies at once', async () => {
    const hook = await webhook((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = ' '.repeat(16 * 1024);
      const pump = setInterval(() => {
        if (response.destroyed) clearInterval(pump);
        else response.write(chunk);
      }, 5);
      response.on('close', () => clearInterval(pump));
    });
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url }),
      approvalTimeoutMs: 10_000,
    });
    const started = Date.now();
    h.fromClient(call(1, 'send_email', {}));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('[BLOCKED BY KVLAR]');
    expect(Date.now() - started).toBeLessThan(5000);
    await hook.aborted;
    expect(h.toServer.lines).toEqual([]);
  });

  it('denies when the webhook does not answer in time, and abandons the request', async () => {
    const hook = await webhook(() => {});
    const h = await harness(engineFrom(POLICY), {
      approver: createWebhookApprover({ url: hook.url }),
      approvalTimeoutMs: 150,
    });
    h.fromClient(call(1, 'send_email', {}));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('no approval within');
    await hook.aborted;
    expect(h.toServer.lines).toEqual([]);
  });

  it('denies when the webhook is down (connection refused)', async () => {
    const hook = await webhook(json(200, { decision: 'approved' }));
    const url = hook.url;
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
    const h = await harness(engineFrom(POLICY), { approver: createWebhookApprover({ url }) });
    h.fromClient(call(1, 'send_email', {}));
    expect(JSON.stringify(await h.toClient.message(1))).toContain('the approver failed');
    expect(h.toServer.lines).toEqual([]);
    expect(h.reports.some((report) => report.code === 'approver_failed')).toBe(true);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => createWebhookApprover({ url: 'file:///etc/passwd' })).toThrow(/http/);
  });
});
