import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvlar, REPO_POLICIES, tempDir } from './helpers.js';
import { auditRecords, type JsonObject, proxyArgs } from './proxy-helpers.js';

const FS_SERVER = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url),
);

// `kvlar proxy --audit-results` (a real process) in front of the real filesystem server, driven
// by the SDK's Client: each forwarded call gets a second record saying how it ended.
describe('kvlar proxy --audit-results', () => {
  let root: string;
  let auditFile: string;
  let client: Client;

  beforeAll(async () => {
    root = realpathSync(await tempDir({ 'notes.txt': 'hello\n', 'a.txt': 'A' }));
    auditFile = join(await tempDir(), 'audit.jsonl');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: proxyArgs(
        [
          '--policy',
          join(REPO_POLICIES, 'filesystem.yaml'),
          '--audit',
          auditFile,
          '--audit-results',
        ],
        [FS_SERVER, root],
      ),
      stderr: 'pipe',
    });
    client = new Client({ name: 'results-agent', version: '1.0.0' });
    await client.connect(transport);
    await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'notes.txt') } });
    const missing = await client.callTool({
      name: 'read_text_file',
      arguments: { path: join(root, 'missing.txt') },
    });
    expect(missing.isError).toBe(true);
    await client.callTool({
      name: 'move_file',
      arguments: { source: join(root, 'a.txt'), destination: join(root, 'b.txt') },
    });
    // Closing the client ends kvlar, which writes what is pending before it exits.
    await client.close();
  }, 30_000);

  afterAll(async () => {
    await client?.close();
  });

  it('writes a result record after each forwarded call, linked to its decision', async () => {
    const records = await auditRecords(auditFile);
    const calls = records.filter((record) => record.resource !== 'move_file');
    // tools/list is not decided: only the two reads and the denied move are in the log.
    expect(
      records.map((record) => [record.resource, record.outcome, 'upstream' in record]),
    ).toEqual([
      ['read_text_file', 'allowed', false],
      ['read_text_file', 'allowed', true],
      ['read_text_file', 'allowed', false],
      ['read_text_file', 'allowed', true],
      ['move_file', 'denied', false],
    ]);
    const [okCall, okResult, failedCall, failedResult] = calls;
    expect(okResult).toMatchObject({ call_id: okCall?.id, upstream: { ok: true } });
    expect(failedResult).toMatchObject({ call_id: failedCall?.id, upstream: { ok: false } });
    const upstreamOf = (record: JsonObject | undefined) =>
      record?.upstream as { error?: string; duration_ms: number } | undefined;
    expect(upstreamOf(failedResult)?.error).toMatch(/ENOENT|no such/i);
    for (const result of [okResult, failedResult]) {
      expect(result).not.toHaveProperty('parameters');
      expect(upstreamOf(result)?.duration_ms).toBeGreaterThanOrEqual(0);
    }
    const verified = await kvlar(['audit', 'verify', auditFile], { cwd: root });
    expect(verified.code).toBe(0);
  });
});
