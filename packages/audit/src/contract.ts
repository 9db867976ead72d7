/**
 * The contract every `AuditSink` keeps, as a test suite a sink written elsewhere can run too
 * (`@kvlar/audit/contract`). It asserts with `node:assert` and takes the test runner's
 * `describe` and `it`, so it runs under vitest, jest and `node:test` alike.
 */
import assert from 'node:assert/strict';
import { AuditError } from './errors.js';
import type { AuditEntry } from './event.js';
import type { RecordOptions } from './record.js';
import type { AuditSink } from './sink.js';
import { verifyChain } from './verify.js';

/** A fresh sink, and a way to read back what it has output. */
export interface SinkUnderTest {
  readonly sink: AuditSink;
  /** What the sink has output so far, one string per record. */
  lines(): Promise<readonly string[]>;
  /** The output lines are hash-chained records (everything but a human-readable format). */
  readonly chained: boolean;
}

/** The parts of a test runner the contract uses: vitest's, jest's and `node:test`'s fit. */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
}

/** A decision as the proxy would hand it over; override what a test is about. */
export function sampleEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
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

const GITHUB_TOKEN = 'ghp_R2d2C3poB8bYodaL3iaH4nS0lOCh3wBacca1';

function assertChain(lines: readonly string[], records: number): void {
  const verified = verifyChain(lines);
  assert.ok(verified.ok, verified.ok ? '' : verified.failure.message);
  assert.equal(verified.records, records);
}

function isAuditError(code: string): (error: unknown) => boolean {
  return (error) => AuditError.isInstance(error) && error.code === code;
}

/**
 * Declares the contract's tests for one sink. `setup` builds a fresh sink for each test; it
 * must pass `options` (a fixed clock and ids) on to the sink's recorder.
 */
export function describeSinkContract(
  name: string,
  setup: (options: RecordOptions) => Promise<SinkUnderTest>,
  { describe, it }: ContractRunner,
): void {
  describe(`${name} (AuditSink contract)`, () => {
    it('outputs one record per write, in call order, when writes are not awaited one by one', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      const names = Array.from({ length: 40 }, (_, i) => `tool_${String(i).padStart(3, '0')}`);
      await Promise.all(names.map((resource) => sink.write(sampleEntry({ resource }))));
      const output = await lines();
      assert.equal(output.length, names.length);
      for (const [i, line] of output.entries()) assert.ok(line.includes(names[i] as string), line);
      await sink.close();
    });

    it('has the record in its output by the time write resolves', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      await sink.write(sampleEntry({ resource: 'first_tool' }));
      assert.ok((await lines()).join('\n').includes('first_tool'));
      await sink.write(sampleEntry({ resource: 'second_tool' }));
      assert.equal((await lines()).length, 2);
      await sink.close();
    });

    it('redacts secrets before they reach the output', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      await sink.write(
        sampleEntry({
          outcome: 'denied',
          matched_rule: 'deny-push',
          reason: 'pushing is not allowed',
          parameters: { repo: 'acme/site', password: 'correct horse battery staple' },
          upstream: { ok: false, error: `401 for token ${GITHUB_TOKEN}`, duration_ms: 12 },
        }),
      );
      const text = (await lines()).join('\n');
      assert.ok(!text.includes('correct horse'), 'a secret-named argument reached the output');
      assert.ok(!text.includes(GITHUB_TOKEN), 'a secret-looking value reached the output');
      assert.ok(text.includes('[REDACTED:github_token]'), text);
      await sink.close();
    });

    it('rejects an entry JSON cannot hold, alone, and keeps working', async () => {
      const { sink, lines, chained } = await setup(fixedRecordOptions());
      await sink.write(sampleEntry({ resource: 'before' }));
      await assert.rejects(
        sink.write(sampleEntry({ parameters: { size: 10n } })),
        isAuditError('invalid_input'),
      );
      await sink.write(sampleEntry({ resource: 'after' }));
      const output = await lines();
      assert.equal(output.length, 2);
      if (chained) assertChain(output, 2);
      await sink.close();
    });

    it('waits for pending writes when closing, then rejects writes with audit_sink_closed', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      const writes = [
        sink.write(sampleEntry({ resource: 'a' })),
        sink.write(sampleEntry({ resource: 'b' })),
      ];
      await sink.close();
      await Promise.all(writes);
      assert.equal((await lines()).length, 2);
      await assert.rejects(sink.write(sampleEntry()), isAuditError('audit_sink_closed'));
      await sink.close();
    });

    it('links every record into one chain starting at the genesis hash', async () => {
      const { sink, lines, chained } = await setup(fixedRecordOptions());
      if (!chained) return;
      for (let i = 0; i < 5; i++) await sink.write(sampleEntry({ resource: `tool_${i}` }));
      const output = await lines();
      assertChain(output, 5);
      const first = JSON.parse(output[0] ?? '') as { prev_hash?: unknown; id?: unknown };
      assert.equal(first.prev_hash, '0'.repeat(64));
      assert.equal(first.id, 'id-1');
      await sink.close();
    });
  });
}
