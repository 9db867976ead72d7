import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  LoggingMessageNotificationSchema,
  type Progress,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, tempDir } from './helpers.js';
import { auditRecords } from './proxy-helpers.js';

const EVERYTHING = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

const ALLOW_ALL = `name: allow-all
version: "1"
rules:
  - id: allow-all
    match_on: {}
    effect: { type: allow }
`;

interface Connected {
  readonly client: Client;
  readonly logs: ServerNotification[];
}

/** The same SDK client setup, talking to server-everything straight or through kvlar. */
async function connect(viaKvlar?: readonly string[]): Promise<Connected> {
  const server = [process.execPath, EVERYTHING, 'stdio'];
  const args =
    viaKvlar === undefined
      ? server.slice(1)
      : [BIN, 'proxy', '--stdio', ...viaKvlar, '--', ...server];
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
  const client = new Client({ name: 'everything-test-agent', version: '1.0.0' });
  const logs: ServerNotification[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification);
  });
  await client.connect(transport);
  return { client, logs };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('kvlar proxy --stdio in front of @modelcontextprotocol/server-everything', () => {
  let auditFile: string;
  let direct: Connected;
  let proxied: Connected;
  /** Runs `use` against both clients; what kvlar relays must equal what the server said. */
  let both: <T>(use: (client: Client) => Promise<T>) => Promise<T>;
  let proxiedToolCalls = 0;

  beforeAll(async () => {
    const dir = await tempDir({ 'allow-all.yaml': ALLOW_ALL });
    auditFile = join(dir, 'audit.jsonl');
    [direct, proxied] = await Promise.all([
      connect(),
      connect(['--policy', join(dir, 'allow-all.yaml'), '--audit', auditFile]),
    ]);
    both = async (use) => {
      const [straight, relayed] = await Promise.all([use(direct.client), use(proxied.client)]);
      expect(relayed).toEqual(straight);
      return relayed;
    };
  }, 30_000);

  afterAll(async () => {
    await Promise.all([direct?.client.close(), proxied?.client.close()]);
  });

  it('relays initialize: same server info, capabilities and instructions', () => {
    expect(proxied.client.getServerVersion()).toEqual(direct.client.getServerVersion());
    expect(proxied.client.getServerCapabilities()).toEqual(direct.client.getServerCapabilities());
    expect(proxied.client.getInstructions()).toEqual(direct.client.getInstructions());
  });

  it('relays tools: list, echo and get-sum', async () => {
    const tools = await both((client) => client.listTools());
    expect(tools.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'get-sum', 'trigger-long-running-operation']),
    );
    const echo = await both((client) =>
      client.callTool({ name: 'echo', arguments: { message: 'hi through kvlar' } }),
    );
    expect(JSON.stringify(echo)).toContain('hi through kvlar');
    const sum = await both((client) =>
      client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }),
    );
    expect(JSON.stringify(sum)).toContain('42');
    proxiedToolCalls += 2;
  });

  it('relays resources: list, templates and read', async () => {
    const listed = await both((client) => client.listResources());
    expect(listed.resources.length).toBeGreaterThan(0);
    await both((client) => client.listResourceTemplates());
    const uri = (listed.resources[0] as { uri: string }).uri;
    const read = await both((client) => client.readResource({ uri }));
    expect(read.contents[0]?.uri).toBe(uri);
  });

  it('relays prompts: list and get, with and without arguments', async () => {
    const listed = await both((client) => client.listPrompts());
    expect(listed.prompts.map((prompt) => prompt.name)).toEqual(
      expect.arrayContaining(['simple-prompt', 'args-prompt']),
    );
    await both((client) => client.getPrompt({ name: 'simple-prompt' }));
    const args = await both((client) =>
      client.getPrompt({ name: 'args-prompt', arguments: { city: 'Paris', state: 'TX' } }),
    );
    expect(JSON.stringify(args)).toContain('Paris, TX');
  });

  it('relays server notifications: logging messages after logging/setLevel', async () => {
    await both((client) => client.setLoggingLevel('debug'));
    const toggled = await both((client) =>
      client.callTool({ name: 'toggle-simulated-logging', arguments: {} }),
    );
    expect(JSON.stringify(toggled)).toContain('Started simulated');
    proxiedToolCalls += 1;
    // The server sends one at once, then one every 5 s; the level is random, the shape is not.
    await until(() => proxied.logs.length > 0 && direct.logs.length > 0);
    for (const log of [...proxied.logs, ...direct.logs]) {
      expect(log.method).toBe('notifications/message');
      expect(log.params).toMatchObject({
        level: expect.any(String),
        data: expect.stringMatching(/message/),
      });
    }
    await both((client) => client.callTool({ name: 'toggle-simulated-logging', arguments: {} }));
    proxiedToolCalls += 1;
  });

  it('relays progress notifications of a long-running tool in order', async () => {
    const progress = { direct: [] as Progress[], proxied: [] as Progress[] };
    const call = (client: Client, into: Progress[]) =>
      client.callTool(
        { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } },
        undefined,
        { onprogress: (step) => into.push(step), timeout: 20_000 },
      );
    const [straight, relayed] = await Promise.all([
      call(direct.client, progress.direct),
      call(proxied.client, progress.proxied),
    ]);
    proxiedToolCalls += 1;
    expect(relayed).toEqual(straight);
    // The server sends the last step just before its result, and the SDK client drops a step
    // that it handles after the result (it does so without kvlar too): compare the steps before.
    const all = [1, 2, 3, 4].map((step) => ({ progress: step, total: 4 }));
    for (const steps of [progress.direct, progress.proxied]) {
      expect(steps.length).toBeGreaterThanOrEqual(3);
      expect(steps).toEqual(all.slice(0, steps.length));
    }
  });

  it('audits each tool call, and nothing else, as allowed', async () => {
    const records = await auditRecords(auditFile);
    expect(records).toHaveLength(proxiedToolCalls);
    for (const record of records) {
      expect(record).toMatchObject({
        action_type: 'tool_call',
        outcome: 'allowed',
        matched_rule: 'allow-all',
        agent_id: 'everything-test-agent',
      });
    }
  });
});
