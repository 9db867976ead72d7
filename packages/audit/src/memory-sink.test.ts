import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions } from '../test/fixtures.js';
import { serializeEvent } from './chain.js';
import { describeSinkContract } from './contract.js';
import { createMemorySink } from './index.js';

describeSinkContract(
  'createMemorySink',
  async (options) => {
    const sink = createMemorySink(options);
    return { sink, chained: true, lines: async () => sink.events.map(serializeEvent) };
  },
  { describe, it },
);

describe('createMemorySink', () => {
  it('fills id and timestamp from the injected generator and clock', async () => {
    const sink = createMemorySink(fixedRecordOptions('2025-01-01T00:00:00.000Z'));
    await sink.write(entry());
    await sink.write(entry({ id: 'given', timestamp: '2024-12-31T23:59:59.000Z' }));
    expect(sink.events.map(({ id, timestamp }) => ({ id, timestamp }))).toEqual([
      { id: 'id-1', timestamp: '2025-01-01T00:00:00.000Z' },
      { id: 'given', timestamp: '2024-12-31T23:59:59.000Z' },
    ]);
  });

  it('keeps only the fields of an audit record, whatever a JavaScript caller adds', async () => {
    const sink = createMemorySink(fixedRecordOptions());
    await sink.write({ ...entry(), extra: 'not recorded' } as ReturnType<typeof entry>);
    expect(sink.events[0]).not.toHaveProperty('extra');
  });
});
