import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions } from '../test/fixtures.js';
import { AuditEventSchema, auditEventJsonSchema, createMemorySink } from './index.js';

async function sampleEvents() {
  const sink = createMemorySink(fixedRecordOptions());
  await sink.write(entry());
  await sink.write(
    entry({
      outcome: 'denied',
      reason: 'needs a human',
      approval: { approver: 'alice', channel: 'webhook', decision: 'denied', latency_ms: 950 },
      upstream: { ok: false, error: 'never sent', duration_ms: 0 },
    }),
  );
  return sink.events;
}

describe('the audit event JSON Schema', () => {
  it('is generated from the zod schema and committed as audit-event.schema.json', async () => {
    // `vitest -u` rewrites the committed file after a deliberate change to the record.
    await expect(`${JSON.stringify(auditEventJsonSchema(), null, 2)}\n`).toMatchFileSnapshot(
      '../audit-event.schema.json',
    );
  });

  it('requires the Rust record’s fields, Kvlar’s own and the chain fields, and nothing else', () => {
    expect(auditEventJsonSchema()).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: [
        'id',
        'timestamp',
        'action_type',
        'resource',
        'agent_id',
        'outcome',
        'matched_rule',
        'session',
        'server',
        'policy',
        'prev_hash',
        'hash',
      ],
    });
  });
});

describe('the JSON Schema, checked by a real validator', () => {
  it('accepts what the sinks write and rejects records without chain fields or with unknown keys', async () => {
    const { default: Ajv2020 } = await import('ajv/dist/2020.js');
    const validate = new Ajv2020({ strict: false }).compile(auditEventJsonSchema());
    const events = await sampleEvents();
    for (const event of events) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);
    const [event] = events;
    const { hash: _hash, ...unhashed } = event ?? {};
    expect(validate(unhashed)).toBe(false);
    expect(validate({ ...event, extra: 1 })).toBe(false);
    expect(validate({ ...event, outcome: 'allow' })).toBe(false);
    expect(validate({ ...event, prev_hash: 'ABC' })).toBe(false);
  });

  it('agrees with the zod schema', async () => {
    for (const event of await sampleEvents()) expect(AuditEventSchema.parse(event)).toEqual(event);
  });
});
