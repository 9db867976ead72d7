import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  auditRecords,
  proxyArgs,
  type RawProxy,
  recordedCalls,
  startRawProxy,
  toolCall,
} from './proxy-helpers.js';

const POLICY = `name: approvals
version: "1"
rules:
  - id: approve-safe
    match_on: { resources: [safe] }
    effect: { type: require_approval, reason: a human looks first }
`;

const running: RawProxy[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((proxy) => proxy.kill()));
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A webhook that answers each request with the next decision of `decisions`. */
async function webhook(decisions: unknown[]): Promise<{ url: string; bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(JSON.parse(body));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(decisions.shift()));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, bodies };
}

describe('kvlar proxy --approval-webhook', () => {
  it('holds the call for the webhook: approved runs, denied does not', async () => {
    const hook = await webhook([
      { decision: 'approved' },
      { decision: 'denied', reason: 'not now' },
    ]);
    const proxy = await startRawProxy({ policy: POLICY, flags: ['--approval-webhook', hook.url] });
    running.push(proxy);
    await proxy.initialize();
    proxy.send(toolCall(1, 'safe', { n: 1 }));
    expect(JSON.stringify(await proxy.answerTo(1))).not.toContain('KVLAR');
    proxy.send(toolCall(2, 'safe', { n: 2 }));
    expect(JSON.stringify(await proxy.answerTo(2))).toContain('not now');
    expect((await recordedCalls(proxy.recordFile)).map((call) => JSON.stringify(call))).toEqual([
      expect.stringContaining('"n":1'),
    ]);
    expect(hook.bodies[0]).toMatchObject({
      tool_name: 'safe',
      rule_id: 'approve-safe',
      tool_arguments: { n: 1 },
    });
    proxy.closeInput();
    await proxy.exited;
    const outcomes = (await auditRecords(proxy.auditFile)).map((record) => record.outcome);
    expect(outcomes).toEqual(['pending_approval', 'allowed', 'pending_approval', 'denied']);
    expect(proxy.stderr()).not.toContain('not supported');
  });
});

describe('kvlar proxy --approval-webhook redacts', () => {
  it('what it tells the webhook, with the audit redactor and --redact-key, not what it forwards', async () => {
    const hook = await webhook([{ decision: 'approved' }]);
    const proxy = await startRawProxy({
      policy: POLICY,
      flags: ['--approval-webhook', hook.url, '--redact-key', 'pin_code'],
    });
    running.push(proxy);
    await proxy.initialize();
    const args = { user: 'ada', password: 'hunter22', pin_code: 4711, note: 'keep' };
    proxy.send(toolCall(1, 'safe', args));
    expect(JSON.stringify(await proxy.answerTo(1))).not.toContain('KVLAR');
    expect(await recordedCalls(proxy.recordFile)).toEqual([
      expect.objectContaining({ params: { name: 'safe', arguments: args } }),
    ]);
    expect(hook.bodies[0]).toMatchObject({
      tool_name: 'safe',
      tool_arguments: {
        user: 'ada',
        password: '[REDACTED:password]',
        pin_code: '[REDACTED:pin_code]',
        note: 'keep',
      },
    });
    expect(JSON.stringify(hook.bodies)).not.toContain('hunter22');
    expect(JSON.stringify(hook.bodies)).not.toContain('4711');
  });
});

describe('kvlar proxy asks the person at the client (elicitation)', () => {
  it("holds a call until the SDK Client's user approves it in the client's own prompt", async () => {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const { tempDir } = await import('./helpers.js');
    const { fileURLToPath } = await import('node:url');
    const { join } = await import('node:path');
    const everything = fileURLToPath(
      import.meta.resolve('@modelcontextprotocol/server-everything/dist/index.js'),
    );
    const dir = await tempDir({
      'policy.yaml': `name: ask
version: "1"
rules:
  - id: ask-echo
    match_on: { resources: [echo] }
    effect: { type: require_approval, reason: echo is asked about }
  - id: allow-rest
    match_on: {}
    effect: { type: allow }
`,
    });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: proxyArgs(['--policy', join(dir, 'policy.yaml')], [everything, 'stdio']),
      stderr: 'ignore',
    });
    const client = new Client(
      { name: 'desk', version: '1' },
      { capabilities: { elicitation: {} } },
    );
    const asked: string[] = [];
    const answers = [{ decision: 'approve' }, { decision: 'deny', reason: 'enough echoes' }];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: answers.shift() ?? { decision: 'deny' } };
    });
    await client.connect(transport);
    const first = await client.callTool({ name: 'echo', arguments: { message: 'once' } });
    expect(first.isError).not.toBe(true);
    expect(JSON.stringify(first.content)).toContain('once');
    const second = await client.callTool({ name: 'echo', arguments: { message: 'twice' } });
    expect(second.isError).toBe(true);
    expect(JSON.stringify(second.content)).toContain('enough echoes');
    expect(asked).toHaveLength(2);
    expect(asked[0]).toContain('echo');
    await client.close();
  });
});
