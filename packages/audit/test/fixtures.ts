import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { AuditEntry, RecordOptions } from '../src/index.js';

/** A decision as the proxy would hand it over; override what the test is about. */
export function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    action_type: 'tool_call',
    resource: 'read_file',
    agent_id: 'claude-desktop',
    outcome: 'allowed',
    matched_rule: 'allow-reads',
    parameters: { path: '/srv/app/README.md' },
    session: 'session-1',
    server: 'filesystem',
    policy: { name: 'default', version: '1.0', hash: 'a'.repeat(64) },
    ...overrides,
  };
}

/** A clock that starts at `start` and moves `stepMs` per call, and ids `id-1`, `id-2`, … */
export function fixedRecordOptions(
  start = '2025-03-01T12:00:00.000Z',
  stepMs = 1000,
): RecordOptions & { clock: () => Date; ids: () => string } {
  let time = Date.parse(start);
  let id = 0;
  return {
    clock: () => {
      const now = new Date(time);
      time += stepMs;
      return now;
    },
    ids: () => `id-${++id}`,
  };
}

const directories: string[] = [];
afterEach(async () => {
  await Promise.all(directories.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory under the OS temp dir, removed after the test. */
export async function tempDirectory(): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), 'kvlar-audit-'));
  directories.push(directory);
  return directory;
}
