/**
 * Files an example needs that its document does not show (`<!-- doctest: fixture PATH -->`),
 * by the path they get in the document's world. Keep this list short: a file a reader would want
 * to see belongs in the document, as a block marked `file PATH`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuditEntry, linkAndSerialize } from '../../packages/audit/dist/index.js';
import { directive, extractBlocks } from './markdown.js';
import { REPO } from './world.js';

export const FIXTURES: Readonly<Record<string, () => string>> = {
  /** The example of docs/cli.md, for the documents that use it too. */
  'policy.yaml': () => shownIn('docs/cli.md', 'policy.yaml'),
  'policy.test.yaml': () => shownIn('docs/cli.md', 'policy.test.yaml'),
  /** A hash-chained log of five decisions, for the `kvlar audit` examples of docs/cli.md. */
  'audit.jsonl': auditLog,
  /** A Claude Desktop config with one server, for the README's `kvlar wrap`. */
  '/home/me/.config/Claude/claude_desktop_config.json': () =>
    `${JSON.stringify(
      {
        mcpServers: {
          filesystem: {
            command: 'npx',
            args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/me/projects'],
          },
        },
      },
      null,
      2,
    )}\n`,
};

function auditLog(): string {
  const policy = { name: 'my-policy', version: '1.0', hash: 'ee7862421b3b'.padEnd(64, '0') };
  const read = {
    resource: 'read_file',
    server: 'filesystem',
    outcome: 'allowed',
    matched_rule: 'allow-read',
  } as const;
  const shell = {
    resource: 'bash',
    server: 'shell',
    outcome: 'denied',
    matched_rule: 'deny-shell',
    reason: 'no shell',
  } as const;
  const entries: (Partial<AuditEntry> &
    Pick<AuditEntry, 'resource' | 'server' | 'outcome' | 'matched_rule'>)[] = [
    { ...read, agent_id: 'claude', parameters: { path: '/home/me/notes.txt' } },
    {
      resource: 'write_file',
      server: 'filesystem',
      agent_id: 'cursor',
      outcome: 'pending_approval',
      matched_rule: 'approve-etc-write',
      reason: 'writes under /etc need a human',
      parameters: { path: '/etc/hosts', content: '127.0.0.1 example' },
    },
    { ...shell, agent_id: 'claude', parameters: { command: 'ls' } },
    { ...shell, agent_id: 'claude', parameters: { command: 'rm -rf /' } },
    { ...read, agent_id: 'claude', parameters: { path: '/home/me/todo.txt' } },
  ];
  let prev = '0'.repeat(64);
  let text = '';
  entries.forEach((entry, index) => {
    const { hash, line } = linkAndSerialize(prev, {
      action_type: 'tool_call',
      agent_id: 'claude',
      session: '5f0c2a1e-0000-4000-8000-000000000001',
      policy,
      ...entry,
      id: `00000000-0000-4000-8000-00000000000${index + 1}`,
      timestamp: `2026-03-01T10:0${index}:00.000Z`,
    });
    prev = hash;
    text += `${line}\n`;
  });
  return text;
}

/** The block of `doc` marked `<!-- doctest: file PATH -->`. */
function shownIn(doc: string, path: string): string {
  const { blocks } = extractBlocks(readFileSync(join(REPO, doc), 'utf8'), doc);
  const block = blocks.find((candidate) => directive(candidate, 'file')?.path === path);
  if (!block) throw new Error(`${doc} shows no block marked <!-- doctest: file ${path} -->`);
  return block.content;
}
