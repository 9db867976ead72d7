/** The command line `kvlar wrap` writes is one an MCP client can start: run it like one. */
import { realpathSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { BIN, kvlar, tempDir, writeFiles } from './helpers.js';

const FS_SERVER = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url),
);

// Reads are allowed on the server named "docs" only: the call goes through only if the wrapped
// command line names the server (--server-name) and carries the policy.
const POLICY = `name: docs-only
version: "1.0"
rules:
  - id: read-docs
    match_on:
      servers: [docs]
      resources: ["read_*"]
    effect: { type: allow }
`;

function textOf(result: unknown): string {
  const first = (result as CallToolResult).content[0];
  return first?.type === 'text' ? first.text : '';
}

describe('a config wrapped by kvlar wrap', () => {
  it('starts the server behind kvlar, and tool calls are decided by the policy', async () => {
    const root = realpathSync(await tempDir({ 'notes.txt': 'hello through kvlar\n' }));
    const home = await tempDir();
    const bin = join(home, 'bin');
    await mkdir(bin);
    await symlink(BIN, join(bin, 'kvlar'));
    await writeFiles(home, {
      '.kvlar/policy.yaml': POLICY,
      '.cursor/mcp.json': `${JSON.stringify(
        { mcpServers: { docs: { command: process.execPath, args: [FS_SERVER, root] } } },
        null,
        2,
      )}\n`,
    });
    const env = {
      HOME: home,
      KVLAR_HOME: join(home, '.kvlar'),
      XDG_CONFIG_HOME: join(home, '.config'),
      CLAUDE_CONFIG_DIR: home,
      KVLAR_WRAP_COMMAND: '',
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    };
    const wrap = await kvlar(['wrap', '--client', 'cursor'], { cwd: home, env });
    expect(wrap.stderr).toBe('');
    expect(wrap.code).toBe(0);

    const entry = parse(await readFile(join(home, '.cursor/mcp.json'), 'utf8')).mcpServers.docs;
    expect(entry.command).toBe(join(bin, 'kvlar'));
    // As a client does: the command and args as written, nothing added.
    const transport = new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      env: { PATH: env.PATH },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'wrap-test-client', version: '1.0.0' });
    await client.connect(transport);
    try {
      const read = await client.callTool({
        name: 'read_text_file',
        arguments: { path: join(root, 'notes.txt') },
      });
      expect(read.isError).toBeFalsy();
      expect(textOf(read)).toBe('hello through kvlar\n');

      const listed = await client.callTool({ name: 'list_directory', arguments: { path: root } });
      expect(listed.isError).toBe(true);
      expect(textOf(listed)).toMatch(/^\[BLOCKED BY KVLAR\]\nTool: list_directory\n/);
    } finally {
      await client.close();
    }
  }, 30_000);
});
