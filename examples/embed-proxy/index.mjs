// @ts-check
/** @import { CallToolResult } from '@modelcontextprotocol/sdk/types.js' */
import { createMemorySink } from '@kvlar/audit';
import { createEngine, parsePolicy, resolvePolicy } from '@kvlar/core';
import { createProxy } from '@kvlar/proxy';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

// 1. The policy: compiled once, then evaluated for every call.
const policyText = `
name: host-policy
version: "1"
rules:
  - id: deny-wipe
    match_on: { resources: [wipe_disk] }
    effect: { type: deny, reason: destroying data is never allowed }
  - id: allow-clock
    match_on: { resources: [get_time] }
    effect: { type: allow }
`;
const parsed = parsePolicy(policyText, { file: 'host-policy.yaml' });
if (!parsed.ok) throw new Error(parsed.issues.map((issue) => issue.message).join('\n'));
// `extends` would need a loader (the second argument); this policy extends nothing.
const resolved = resolvePolicy(parsed.policy);
if (!resolved.ok) throw new Error('the policy could not be resolved');
const engine = createEngine([resolved.policy]);

// 2. The MCP server the host wants to protect (here in-process; any Transport works).
const server = new McpServer({ name: 'tools', version: '1.0.0' });
server.registerTool('get_time', { description: 'The time' }, async () => ({
  content: [{ type: 'text', text: '12:00' }],
}));
server.registerTool('wipe_disk', { description: 'Erase everything' }, async () => {
  throw new Error('the proxy must never let this run');
});

// 3. Two transport pairs: Client ↔ proxy, proxy ↔ server.
const [clientSide, proxyClientSide] = InMemoryTransport.createLinkedPair();
const [proxyServerSide, serverSide] = InMemoryTransport.createLinkedPair();
const audit = createMemorySink();
const proxy = createProxy({
  engine,
  audit,
  client: proxyClientSide,
  upstream: proxyServerSide,
  serverName: 'tools',
  onReport: (report) => {
    if (report.level === 'error' || report.level === 'warn')
      console.error(`kvlar: ${report.message}`);
  },
});
await server.connect(serverSide);
await proxy.start();

const client = new Client({ name: 'my-agent', version: '1.0.0' });
await client.connect(clientSide);

// 4. The agent calls tools as usual; Kvlar decides.
const tools = await client.listTools();
console.log('tools:', tools.tools.map((tool) => tool.name).join(', '));
const time = await client.callTool({ name: 'get_time', arguments: {} });
console.log('get_time:', firstLine(time));
const wipe = await client.callTool({ name: 'wipe_disk', arguments: {} });
console.log('wipe_disk:', wipe.isError ? firstLine(wipe) : 'ran!');

for (const event of audit.events) {
  console.log(
    `audit: ${event.agent_id} ${event.resource} ${event.outcome} (${event.matched_rule})`,
  );
}
await client.close();
await proxy.closed;

/**
 * The first line of a tool result's first text block. `callTool` checks answers against
 * `CallToolResultSchema`; its declared type also admits a legacy shape, hence the cast.
 * @param {Awaited<ReturnType<Client['callTool']>>} result
 */
function firstLine(result) {
  const [block] = /** @type {CallToolResult} */ (result).content;
  return block?.type === 'text' ? (block.text.split('\n')[0] ?? '') : '';
}
