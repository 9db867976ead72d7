import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminServer, createMetrics, startAdminServer } from '../src/admin.js';
import { approvalDigest, createApprovalQueue } from '../src/approval-queue.js';
import { type ApprovalRequest, type Approver, combineApprovers } from '../src/approver.js';
import { call, engineFrom, harness, settle } from './harness.js';

const POLICY = `
name: approvals
version: "1"
rules:
  - id: approve-deploy
    match_on: { resources: [deploy] }
    effect: { type: require_approval, reason: deploys need a human }
`;
const TOKEN = 'test-token-0123456789';

function http(
  port: number,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
) {
  return new Promise<{ status: number; json: Record<string, unknown>; text: string }>(
    (resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method, path, headers: options.headers ?? {} },
        (response) => {
          let text = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => {
            let json: Record<string, unknown> = {};
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {}
            resolve({ status: response.statusCode ?? 0, json, text });
          });
        },
      );
      req.on('error', reject);
      req.end(options.body);
    },
  );
}

const auth = { authorization: `Bearer ${TOKEN}` };
const jsonHeaders = { ...auth, 'content-type': 'application/json' };
const servers: AdminServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function setup() {
  const queue = createApprovalQueue({
    redact: (value) => JSON.parse(JSON.stringify(value).replace(/hunter2/g, '[REDACTED]')),
  });
  const engine = engineFrom(POLICY);
  const h = await harness(engine, { approver: queue });
  const metrics = createMetrics({ version: '1', engine: () => engine });
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, metrics, {
    queue,
    token: TOKEN,
  });
  servers.push(admin);
  return { h, queue, port: admin.address.port };
}

async function held(port: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const { json } = await http(port, 'GET', '/approvals', { headers: auth });
    const list = json.approvals as Record<string, unknown>[];
    if (list.length > 0) return list;
    await settle(10);
  }
  return [];
}

describe('approvals through the admin endpoint', () => {
  it('lists a held call with redacted arguments and a digest, and forwards it once approved', async () => {
    const { h, port } = await setup();
    h.fromClient(call(1, 'deploy', { env: 'prod', password: 'hunter2' }));
    const [pending] = await held(port);
    expect(pending).toMatchObject({
      tool: 'deploy',
      action_type: 'tool_call',
      arguments: { env: 'prod', password: '[REDACTED]' },
      rule_id: 'approve-deploy',
      reason: 'deploys need a human',
      digest: approvalDigest('tool_call', 'deploy', { env: 'prod', password: 'hunter2' }),
    });
    const answer = await http(port, 'POST', `/approvals/${pending?.id}/approve`, {
      headers: jsonHeaders,
      body: JSON.stringify({ digest: pending?.digest, approver: 'alice' }),
    });
    expect(answer).toMatchObject({ status: 200, json: { ok: true } });
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({
      id: 1,
      params: { name: 'deploy' },
    });
    expect(h.audit.events[1]?.approval).toMatchObject({
      approver: 'alice',
      channel: 'admin_http',
      decision: 'approved',
    });
    // Used once: a second answer finds nothing.
    const again = await http(port, 'POST', `/approvals/${pending?.id}/approve`, {
      headers: jsonHeaders,
      body: '{}',
    });
    expect(again.status).toBe(404);
  });

  it('denies with the reason given, and refuses an answer for a call other than the one seen', async () => {
    const { h, port } = await setup();
    h.fromClient(call(1, 'deploy', { env: 'prod' }));
    const [pending] = await held(port);
    const wrong = await http(port, 'POST', `/approvals/${pending?.id}/approve`, {
      headers: jsonHeaders,
      body: JSON.stringify({ digest: 'f'.repeat(64) }),
    });
    expect(wrong.status).toBe(409);
    await http(port, 'POST', `/approvals/${pending?.id}/deny`, {
      headers: jsonHeaders,
      body: JSON.stringify({ reason: 'freeze week' }),
    });
    expect(JSON.stringify(await h.toClient.message(1))).toContain('freeze week');
    expect(h.toServer.lines).toEqual([]);
  });

  it('forgets a call the client cancelled, so a late approval cannot run it', async () => {
    const { h, port } = await setup();
    h.fromClient(call(1, 'deploy', {}));
    const [pending] = await held(port);
    h.fromClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    await settle(50);
    const late = await http(port, 'POST', `/approvals/${pending?.id}/approve`, {
      headers: jsonHeaders,
      body: '{}',
    });
    expect(late.status).toBe(404);
    expect((await http(port, 'GET', '/approvals', { headers: auth })).json.approvals).toEqual([]);
    expect(h.toServer.lines).toEqual([]);
  });

  it('guards the approvals API: token, JSON only, same origin', async () => {
    const { h, port } = await setup();
    h.fromClient(call(1, 'deploy', {}));
    const [pending] = await held(port);
    const path = `/approvals/${pending?.id}/approve`;
    expect((await http(port, 'GET', '/approvals')).status).toBe(401);
    expect(
      (await http(port, 'GET', '/approvals', { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
    expect(
      (
        await http(port, 'POST', path, {
          headers: { ...auth, 'content-type': 'text/plain' },
          body: '{}',
        })
      ).status,
    ).toBe(415);
    const crossSite = await http(port, 'POST', path, {
      headers: { ...jsonHeaders, origin: 'https://evil.example' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect((await http(port, 'POST', path, { headers: jsonHeaders, body: '[1]' })).status).toBe(
      400,
    );
    expect(h.toServer.lines).toEqual([]);
    const page = await http(port, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Calls waiting for approval');
    expect(page.text).not.toContain(TOKEN);
  });
});

describe('combineApprovers', () => {
  const request: ApprovalRequest = {
    id: 'a',
    actionType: 'tool_call',
    resource: 'deploy',
    arguments: {},
    agentId: 'x',
    server: 's',
    decision: { type: 'require_approval', ruleId: 'r' },
    requestedAt: 0,
  };
  const waiting = (signals: AbortSignal[]): Approver => ({
    request: (_, signal) => {
      signals.push(signal);
      return new Promise(() => {});
    },
  });

  it('lets the first answer decide and tells the others to stop waiting', async () => {
    const signals: AbortSignal[] = [];
    const fast: Approver = {
      request: async () => ({ approved: true, approver: 'bot', channel: 'test' }),
    };
    const answer = await combineApprovers([waiting(signals), fast]).request(
      request,
      new AbortController().signal,
    );
    expect(answer).toMatchObject({ approved: true, approver: 'bot' });
    expect(signals[0]?.aborted).toBe(true);
  });

  it('denies when any approver fails (fail-closed)', async () => {
    const signals: AbortSignal[] = [];
    const broken: Approver = { request: async () => Promise.reject(new Error('webhook down')) };
    await expect(
      combineApprovers([waiting(signals), broken]).request(request, new AbortController().signal),
    ).rejects.toThrow('webhook down');
    expect(signals[0]?.aborted).toBe(true);
  });
});

describe('a call waiting for a person', () => {
  it('sends progress notifications when the request carries a progress token, and stops after', async () => {
    const queue = createApprovalQueue();
    const h = await harness(engineFrom(POLICY), { approver: queue, progressIntervalMs: 40 });
    h.fromClient({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'deploy', arguments: {}, _meta: { progressToken: 'tok-1' } },
    });
    await h.toClient.line(2);
    const progress = h.toClient.messages as Record<string, unknown>[];
    expect(progress.slice(0, 2)).toMatchObject([
      { method: 'notifications/progress', params: { progressToken: 'tok-1', progress: 1 } },
      { method: 'notifications/progress', params: { progressToken: 'tok-1', progress: 2 } },
    ]);
    const [pending] = queue.list();
    queue.decide(pending?.id ?? '', { approved: true, approver: 'a', channel: 'test' });
    expect(JSON.parse(await h.toServer.line(1))).toMatchObject({
      params: { _meta: { progressToken: 'tok-1' } },
    });
    const count = h.toClient.lines.length;
    await settle(150);
    expect(h.toClient.lines).toHaveLength(count);
  });
});

describe('the asynchronous webhook', () => {
  it('answers 202, and the decision comes later through the approvals API under its request_id', async () => {
    const { createServer } = await import('node:http');
    const { createWebhookApprover } = await import('../src/webhook-approver.js');
    const ids: string[] = [];
    const hook = createServer((incoming, response) => {
      let body = '';
      incoming.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      incoming.on('end', () => {
        ids.push((JSON.parse(body) as { request_id: string }).request_id);
        response.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const address = hook.address();
    const hookPort = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const queue = createApprovalQueue();
      const engine = engineFrom(POLICY);
      const webhook = createWebhookApprover({ url: `http://127.0.0.1:${hookPort}/` });
      const h = await harness(engine, { approver: combineApprovers([queue, webhook]) });
      const metrics = createMetrics({ version: '1', engine: () => engine });
      const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, metrics, {
        queue,
        token: TOKEN,
      });
      servers.push(admin);
      h.fromClient(call(1, 'deploy', {}));
      for (let i = 0; i < 100 && ids.length === 0; i++) await settle(10);
      await settle(50);
      expect(h.toServer.lines).toEqual([]);
      const answer = await http(admin.address.port, 'POST', `/approvals/${ids[0]}/approve`, {
        headers: jsonHeaders,
        body: JSON.stringify({ approver: 'change-board' }),
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(await h.toServer.line(1))).toMatchObject({ id: 1 });
      expect(h.audit.events[1]?.approval).toMatchObject({
        approver: 'change-board',
        decision: 'approved',
      });
    } finally {
      hook.closeAllConnections();
      await new Promise((resolve) => hook.close(resolve));
    }
  });
});
