import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { serializeEvent } from '../src/chain.js';
import { fixedRecordOptions } from '../src/contract.js';
import type { AuditEntry, AuditUpstream } from '../src/event.js';
import { createMemorySink } from '../src/memory-sink.js';
import { type AuditRecord, parseRecords } from '../src/records.js';

/** The contract's sample decision and fixed clock and ids, shared with the unit tests. */
export { fixedRecordOptions, sampleEntry as entry } from '../src/contract.js';

/**
 * The result record the proxy writes after the server answered `decision`'s call: the decision's
 * fields but `parameters`, `reason` and `approval`, plus `call_id` and `upstream`.
 */
export function resultEntry(
  decision: AuditEntry,
  callId: string,
  upstream: AuditUpstream,
): AuditEntry {
  return {
    action_type: decision.action_type,
    resource: decision.resource,
    agent_id: decision.agent_id,
    outcome: decision.outcome,
    matched_rule: decision.matched_rule,
    session: decision.session,
    server: decision.server,
    ...(decision.shadow === undefined ? {} : { shadow: decision.shadow }),
    policy: decision.policy,
    call_id: callId,
    upstream,
  };
}

/**
 * `entries` as a memory sink links and stores them (ids `id-1`, `id-2`, …, a second apart from
 * 2025-03-01T12:00:00Z): the lines of a real chain, and the records read back from them.
 */
export async function chained(
  entries: readonly AuditEntry[],
): Promise<{ readonly lines: string[]; readonly records: readonly AuditRecord[] }> {
  const sink = createMemorySink(fixedRecordOptions());
  for (const item of entries) await sink.write(item);
  const lines = sink.events.map(serializeEvent);
  const parsed = parseRecords(lines.join('\n'));
  if (parsed.skipped.length > 0) throw new Error(parsed.skipped[0]?.message);
  return { lines, records: parsed.records };
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
