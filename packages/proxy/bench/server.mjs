/**
 * The MCP server every benchmark mode reaches: an McpServer over stdio with two tools.
 * `echo` returns its `text`; `blob` returns one text content of `bytes` bytes, built once per size
 * so the benchmark times the transport, not string building.
 */
import { createRequire } from 'node:module';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

// zod is the SDK's dependency, not ours: resolve it from the SDK so both use the same copy.
const fromSdk = createRequire(import.meta.resolve('@modelcontextprotocol/sdk/server/mcp.js'));
const { z } = fromSdk('zod');

const MAX_BLOB_BYTES = 64 * 1024 * 1024;
const blobs = new Map();

/** ASCII only, so JSON needs no escapes and bytes equal characters. */
function blobOf(bytes) {
  let blob = blobs.get(bytes);
  if (blob === undefined) {
    const line = `${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(2)}\n`;
    blob = line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
    blobs.set(bytes, blob);
  }
  return blob;
}

const server = new McpServer({ name: 'kvlar-bench-server', version: '1.0.0' });

server.registerTool(
  'echo',
  { description: 'Returns its text argument.', inputSchema: { text: z.string() } },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);

server.registerTool(
  'blob',
  {
    description: 'Returns one text content of the given number of bytes.',
    inputSchema: { bytes: z.number().int().min(0).max(MAX_BLOB_BYTES) },
  },
  async ({ bytes }) => ({ content: [{ type: 'text', text: blobOf(bytes) }] }),
);

await server.connect(new StdioServerTransport());
