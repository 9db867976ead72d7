import { existsSync, realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvlar, REPO_POLICIES, tempDir } from './helpers.js';
import { auditRecords, type JsonObject, proxyArgs } from './proxy-helpers.js';

const FS_SERVER = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url),
);

/** A connected SDK client: through kvlar when `viaKvlar` holds the flags, else straight. */
async function connect(root: string, viaKvlar?: readonly string[]): Promise<Client> {
  const server = [FS_SERVER, root];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: viaKvlar === undefined ? server : proxyArgs(viaKvlar, server),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'fs-test-agent', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  const first = content[0];
  return first?.type === 'text' ? first.text : '';
}

function decisionOf(result: unknown): JsonObject {
  const meta = (result as CallToolResult)._meta as JsonObject | undefined;
  return meta?.['kvlar.io/decision'] as JsonObject;
}

describe('kvlar proxy --stdio in front of @modelcontextprotocol/server-filesystem', () => {
  let root: string;
  let auditFile: string;
  let direct: Client;
  let proxied: Client;
  let directTools: Tool[];

  beforeAll(async () => {
    root = realpathSync(
      await tempDir({ 'notes.txt': 'hello from kvlar\n', 'a.txt': 'A', 'sub/b.txt': 'B' }),
    );
    auditFile = join(await tempDir(), 'audit.jsonl');
    direct = await connect(root);
    directTools = (await direct.listTools()).tools;
    proxied = await connect(root, [
      '--policy',
      join(REPO_POLICIES, 'filesystem.yaml'),
      '--audit',
      auditFile,
      '--server-name',
      'fs',
    ]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([direct?.close(), proxied?.close()]);
  });

  it('lets reads through with the file content', async () => {
    const notes = join(root, 'notes.txt');
    const read = await proxied.callTool({ name: 'read_text_file', arguments: { path: notes } });
    expect(read.isError).toBeFalsy();
    expect(textOf(read)).toBe('hello from kvlar\n');
    // Byte for byte what the server answers without kvlar.
    expect(read).toEqual(
      await direct.callTool({ name: 'read_text_file', arguments: { path: notes } }),
    );
    const listed = await proxied.callTool({ name: 'list_directory', arguments: { path: root } });
    expect(textOf(listed)).toContain('notes.txt');
  });

  it('answers write_file with "approval required" and writes nothing', async () => {
    const target = join(root, 'new.txt');
    const result = await proxied.callTool({
      name: 'write_file',
      arguments: { path: target, content: 'should not exist' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^\[KVLAR — APPROVAL REQUIRED\]\nTool: write_file\n/);
    expect(decisionOf(result)).toMatchObject({
      code: 'POLICY_APPROVAL_REQUIRED',
      decision: 'require_approval',
      rule_id: 'approve-write',
      tool: 'write_file',
    });
    expect(existsSync(target)).toBe(false);
  });

  it('denies move_file and leaves both paths as they were', async () => {
    const source = join(root, 'a.txt');
    const destination = join(root, 'moved.txt');
    const result = await proxied.callTool({
      name: 'move_file',
      arguments: { source, destination },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^\[BLOCKED BY KVLAR\]\nTool: move_file\n/);
    expect(decisionOf(result)).toMatchObject({ code: 'POLICY_DENY', rule_id: 'deny-move' });
    expect(await readFile(source, 'utf8')).toBe('A');
    expect(existsSync(destination)).toBe(false);
  });

  it('denies delete-like tools (the server has none, so a made-up one)', async () => {
    const names = directTools.map((tool) => tool.name);
    expect(names.filter((name) => /delete|remove|unlink|rmdir/.test(name))).toEqual([]);
    const result = await proxied.callTool({
      name: 'delete_file',
      arguments: { path: join(root, 'sub/b.txt') },
    });
    expect(textOf(result)).toMatch(/^\[BLOCKED BY KVLAR\]/);
    expect(decisionOf(result)).toMatchObject({ rule_id: 'deny-delete' });
    expect(await readFile(join(root, 'sub/b.txt'), 'utf8')).toBe('B');
  });

  it('hides from tools/list exactly the tools the policy always denies', async () => {
    const listed = (await proxied.listTools()).tools;
    expect(directTools.map((tool) => tool.name)).toContain('move_file');
    // Everything else the server offers is allowed or needs approval, so it stays, unchanged.
    expect(listed).toEqual(directTools.filter((tool) => tool.name !== 'move_file'));
  });

  // Runs last, over the decisions the tests above caused (tests in a file run in order).
  it('audits one record per decision, with the right outcome and rule, in a chain that verifies', async () => {
    const records = await auditRecords(auditFile);
    expect(records.map((record) => [record.resource, record.outcome, record.matched_rule])).toEqual(
      [
        ['read_text_file', 'allowed', 'allow-reads'],
        ['list_directory', 'allowed', 'allow-list'],
        ['write_file', 'pending_approval', 'approve-write'],
        ['move_file', 'denied', 'deny-move'],
        ['delete_file', 'denied', 'deny-delete'],
      ],
    );
    for (const record of records) {
      expect(record).toMatchObject({
        action_type: 'tool_call',
        agent_id: 'fs-test-agent',
        server: 'fs',
      });
    }
    expect(records[0]?.parameters).toEqual({ path: join(root, 'notes.txt') });
    const verified = await kvlar(['audit', 'verify', auditFile], { cwd: root });
    expect(verified.code).toBe(0);
  });
});
