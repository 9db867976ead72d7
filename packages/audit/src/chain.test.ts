import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions } from '../test/fixtures.js';
import { canonicalJson } from './canonical.js';
import {
  GENESIS_HASH,
  hashRecord,
  linkAndSerialize,
  linkEvent,
  type UnlinkedEvent,
} from './chain.js';
import { createMemorySink } from './index.js';

const unlinked: UnlinkedEvent = {
  id: 'id-1',
  timestamp: '2025-03-01T12:00:00.000Z',
  action_type: 'tool_call',
  resource: 'bash',
  agent_id: 'a',
  outcome: 'denied',
  matched_rule: 'deny-shell',
  session: 's',
  server: 'shell',
  policy: { name: 'p', version: '1', hash: 'h' },
};

describe('the hash chain', () => {
  it('hashes sha256(prev_hash + canonical record without hash), in lower-case hex', () => {
    const event = linkEvent(GENESIS_HASH, unlinked);
    // Written out by hand so a change to the canonical form cannot pass unnoticed.
    const canonical =
      '{"action_type":"tool_call","agent_id":"a","id":"id-1","matched_rule":"deny-shell",' +
      `"outcome":"denied","policy":{"hash":"h","name":"p","version":"1"},"prev_hash":"${GENESIS_HASH}",` +
      '"resource":"bash","server":"shell","session":"s","timestamp":"2025-03-01T12:00:00.000Z"}';
    const expected = createHash('sha256')
      .update(GENESIS_HASH + canonical)
      .digest('hex');
    expect(event).toEqual({ ...unlinked, prev_hash: GENESIS_HASH, hash: expected });
    expect(hashRecord(event)).toBe(expected);
  });

  it('starts at 64 zeros and links each record to the one before', async () => {
    const sink = createMemorySink(fixedRecordOptions());
    for (let i = 0; i < 3; i++) await sink.write(entry());
    const [first, second, third] = sink.events;
    expect(first?.prev_hash).toBe('0'.repeat(64));
    expect(second?.prev_hash).toBe(first?.hash);
    expect(third?.prev_hash).toBe(second?.hash);
    for (const event of sink.events) expect(event.hash).not.toBe(event.prev_hash);
  });

  it('gives records that differ in one field different hashes', () => {
    const a = linkEvent(GENESIS_HASH, unlinked);
    const b = linkEvent(GENESIS_HASH, { ...unlinked, outcome: 'allowed' });
    const c = linkEvent(a.hash, unlinked);
    expect(new Set([a.hash, b.hash, c.hash]).size).toBe(3);
  });
});

describe('linkAndSerialize', () => {
  const text = fc.string({ maxLength: 12 });
  const unlinkedEvent: fc.Arbitrary<UnlinkedEvent> = fc.record(
    {
      id: text,
      timestamp: text,
      action_type: text,
      resource: text,
      agent_id: text,
      outcome: fc.constantFrom('allowed', 'denied', 'pending_approval'),
      matched_rule: text,
      reason: text,
      parameters: fc.jsonValue({ maxDepth: 3 }),
      session: text,
      shadow: fc.constant(true as const),
      server: text,
      policy: fc.record({ name: text, version: text, hash: text }),
      approval: fc.record({
        approver: text,
        channel: text,
        decision: fc.constantFrom('approved', 'denied', 'timeout', 'error'),
        latency_ms: fc.nat(),
      }),
      call_id: text,
      upstream: fc.record(
        { ok: fc.boolean(), error: text, duration_ms: fc.nat() },
        { requiredKeys: ['ok', 'duration_ms'] },
      ),
    },
    {
      requiredKeys: [
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
      ],
    },
  );

  it('writes each record with its own policy when policies alternate or gain a member', () => {
    const policies = [
      { name: 'p', version: '1', hash: 'h' },
      { name: 'p', version: '2', hash: 'h' },
      { name: 'p', version: '1', hash: 'h' },
      // From JavaScript a policy can carry more than the three members; it is written whole.
      { name: 'p', version: '1', hash: 'h', note: 'extra' } as UnlinkedEvent['policy'],
      { name: 'p', version: '1', hash: 'h' },
    ];
    let prev = GENESIS_HASH;
    for (const policy of policies) {
      const event = { ...unlinked, policy };
      const { line, hash } = linkAndSerialize(prev, event);
      expect(line).toBe(canonicalJson(linkEvent(prev, event)));
      expect(JSON.parse(line).policy).toEqual(policy);
      prev = hash;
    }
  });

  it('writes the canonical JSON of the linked event, and hashes what hashRecord hashes', () => {
    fc.assert(
      fc.property(unlinkedEvent, fc.stringMatching(/^[0-9a-f]{64}$/), (event, prev) => {
        const { line, hash } = linkAndSerialize(prev, event);
        const linked = linkEvent(prev, event);
        expect(linked.hash).toBe(hash);
        expect(line).toBe(canonicalJson(linked));
        expect(linked.hash).toBe(hashRecord(linked));
        expect(linked).toEqual({ ...event, prev_hash: prev, hash: linked.hash });
      }),
      { seed: 20261124, numRuns: 300 },
    );
  });
});
