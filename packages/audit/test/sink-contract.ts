import { describe, expect, it } from 'vitest';
import { AuditError, type AuditSink, type RecordOptions, verifyChain } from '../src/index.js';
import { entry, fixedRecordOptions } from './fixtures.js';

export interface SinkUnderTest {
  readonly sink: AuditSink;
  /** What the sink has output so far, one string per record. */
  lines(): Promise<readonly string[]>;
  /** The output lines are hash-chained records (everything but the human stderr format). */
  readonly chained: boolean;
}

const GITHUB_TOKEN = 'ghp_R2d2C3poB8bYodaL3iaH4nS0lOCh3wBacca1';

/**
 * The contract every `AuditSink` keeps (like unstorage's `testDriver`): each sink's test file
 * calls this with a factory that builds a fresh sink and a way to read back its output.
 */
export function describeSinkContract(
  name: string,
  setup: (options: RecordOptions) => Promise<SinkUnderTest>,
): void {
  describe(`${name} (AuditSink contract)`, () => {
    it('outputs one record per write, in call order, when writes are not awaited one by one', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      const names = Array.from({ length: 40 }, (_, i) => `tool_${String(i).padStart(3, '0')}`);
      await Promise.all(names.map((resource) => sink.write(entry({ resource }))));
      const output = await lines();
      expect(output).toHaveLength(names.length);
      for (const [i, line] of output.entries()) expect(line).toContain(names[i]);
      await sink.close();
    });

    it('has the record in its output by the time write resolves', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      await sink.write(entry({ resource: 'first_tool' }));
      expect((await lines()).join('\n')).toContain('first_tool');
      await sink.write(entry({ resource: 'second_tool' }));
      expect(await lines()).toHaveLength(2);
      await sink.close();
    });

    it('redacts secrets before they reach the output', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      await sink.write(
        entry({
          outcome: 'denied',
          matched_rule: 'deny-push',
          reason: 'pushing is not allowed',
          parameters: { repo: 'acme/site', password: 'correct horse battery staple' },
          upstream: { ok: false, error: `401 for token ${GITHUB_TOKEN}`, duration_ms: 12 },
        }),
      );
      const text = (await lines()).join('\n');
      expect(text).not.toContain('correct horse');
      expect(text).not.toContain(GITHUB_TOKEN);
      expect(text).toContain('[REDACTED:github_token]');
      await sink.close();
    });

    it('rejects an entry JSON cannot hold, alone, and keeps working', async () => {
      const { sink, lines, chained } = await setup(fixedRecordOptions());
      await sink.write(entry({ resource: 'before' }));
      const bad = sink.write(entry({ parameters: { size: 10n } }));
      await expect(bad).rejects.toSatisfy(
        (error) => AuditError.isInstance(error) && error.code === 'invalid_input',
      );
      await sink.write(entry({ resource: 'after' }));
      const output = await lines();
      expect(output).toHaveLength(2);
      if (chained) expect(verifyChain(output)).toMatchObject({ ok: true, records: 2 });
      await sink.close();
    });

    it('waits for pending writes when closing, then rejects writes with audit_sink_closed', async () => {
      const { sink, lines } = await setup(fixedRecordOptions());
      const writes = [sink.write(entry({ resource: 'a' })), sink.write(entry({ resource: 'b' }))];
      await sink.close();
      await expect(Promise.all(writes)).resolves.toBeDefined();
      expect(await lines()).toHaveLength(2);
      await expect(sink.write(entry())).rejects.toSatisfy(
        (error) => AuditError.isInstance(error) && error.code === 'audit_sink_closed',
      );
      await expect(sink.close()).resolves.toBeUndefined();
    });

    it('links every record into one chain starting at the genesis hash', async () => {
      const { sink, lines, chained } = await setup(fixedRecordOptions());
      if (!chained) return;
      for (let i = 0; i < 5; i++) await sink.write(entry({ resource: `tool_${i}` }));
      const output = await lines();
      expect(verifyChain(output)).toMatchObject({ ok: true, records: 5 });
      expect(JSON.parse(output[0] ?? '')).toMatchObject({ prev_hash: '0'.repeat(64), id: 'id-1' });
      await sink.close();
    });
  });
}
