// @ts-check
// The README's demo: an agent (the MCP SDK's Client) talks to the MCP filesystem server through
// `kvlar proxy` with the shipped `filesystem` policy, in a scratch directory. Reads pass, a write
// needs a human, a move is blocked; every decision lands in a hash-chained audit log.
/** @import { CallToolResult } from '@modelcontextprotocol/sdk/types.js' */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const kvlarDist = dirname(fileURLToPath(import.meta.resolve('@kvlar/cli')));
const kvlar = join(kvlarDist, 'bin.js');
const server = fileURLToPath(
  import.meta.resolve('@modelcontextprotocol/server-filesystem/dist/index.js'),
);
const policy = join(kvlarDist, 'policies', 'filesystem.yaml');

const scratch = mkdtempSync(join(tmpdir(), 'kvlar-demo-'));
const project = join(scratch, 'project');
const audit = join(scratch, 'audit.jsonl');
execFileSync('mkdir', ['-p', project]);
writeFileSync(join(project, 'notes.md'), '# Notes\nKvlar checks every tool call.\n');

const transport = new StdioClientTransport({
  command: process.execPath,
  args: [
    kvlar,
    'proxy',
    '--stdio',
    '--policy',
    policy,
    '--audit',
    audit,
    '--server-name',
    'filesystem',
    '--',
    process.execPath,
    server,
    project,
  ],
  stderr: 'ignore',
});
const client = new Client({ name: 'demo-agent', version: '1.0.0' });
await client.connect(transport);

/**
 * Prints a call and how it went. `callTool` checks answers against `CallToolResultSchema`; its
 * declared type also admits a legacy shape, hence the cast.
 * @param {string} label
 * @param {Awaited<ReturnType<Client['callTool']>>} result
 */
const show = (label, result) => {
  const [block] = /** @type {CallToolResult} */ (result).content;
  const text = block?.type === 'text' ? block.text : '';
  const verdict = result.isError ? text.split('\n')[0] : 'ok';
  console.log(`${label.padEnd(44)} ${verdict}`);
};
const { tools } = await client.listTools();
console.log(`tools the agent sees: ${tools.map((tool) => tool.name).join(', ')}\n`);
show(
  'read_text_file notes.md',
  await client.callTool({ name: 'read_text_file', arguments: { path: join(project, 'notes.md') } }),
);
show(
  'write_file todo.md',
  await client.callTool({
    name: 'write_file',
    arguments: { path: join(project, 'todo.md'), content: 'x' },
  }),
);
show(
  'move_file notes.md → old.md',
  await client.callTool({
    name: 'move_file',
    arguments: { source: join(project, 'notes.md'), destination: join(project, 'old.md') },
  }),
);
show(
  'read_text_file project/../../etc/passwd',
  await client.callTool({
    name: 'read_text_file',
    arguments: { path: `${project}/../../etc/passwd` },
  }),
);
await client.close();

console.log(
  `\non disk: notes.md ${existsSync(join(project, 'notes.md')) ? 'still there' : 'GONE'}, todo.md ${existsSync(join(project, 'todo.md')) ? 'WRITTEN' : 'not written'}`,
);
const records = readFileSync(audit, 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line));
console.log(
  `audit: ${records.length} records: ${records.map((record) => `${record.resource} ${record.outcome}`).join(', ')}`,
);
console.log(
  execFileSync(process.execPath, [kvlar, 'audit', 'verify', audit], { encoding: 'utf8' }).trim(),
);
rmSync(scratch, { recursive: true, force: true });
