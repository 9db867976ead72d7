// A sink written outside @kvlar/audit, checked by the exported contract under node:test, as a
// third party would: `node --test array-sink.contract.mjs`. With KVLAR_BROKEN_SINK=redaction it
// forgets to redact, and the contract must fail.
import { describe, it } from 'node:test';
import { AuditError, createRedactor, GENESIS_HASH, linkEvent, serializeEvent } from '@kvlar/audit';
import { describeSinkContract } from '@kvlar/audit/contract';

const forgetRedaction = process.env.KVLAR_BROKEN_SINK === 'redaction';

/** Keeps hash-chained lines in an array (a stand-in for a queue or a database table). */
function createArraySink({ clock = () => new Date(), ids = () => crypto.randomUUID() } = {}) {
  const lines = [];
  const redactor = createRedactor();
  const redact = forgetRedaction ? { value: (v) => v, text: (t) => t } : redactor;
  let lastHash = GENESIS_HASH;
  let closed = false;
  const sink = {
    async write(entry) {
      if (closed) throw new AuditError('audit_sink_closed', 'the array sink is closed');
      const event = linkEvent(lastHash, {
        id: ids(),
        timestamp: clock().toISOString(),
        action_type: entry.action_type,
        resource: entry.resource,
        agent_id: entry.agent_id,
        outcome: entry.outcome,
        matched_rule: entry.matched_rule,
        ...(entry.reason === undefined ? {} : { reason: redact.text(entry.reason) }),
        ...(entry.parameters === undefined ? {} : { parameters: redact.value(entry.parameters) }),
        session: entry.session,
        server: entry.server,
        policy: entry.policy,
        ...(entry.upstream === undefined
          ? {}
          : {
              upstream: {
                ...entry.upstream,
                ...(entry.upstream.error === undefined
                  ? {}
                  : { error: redact.text(entry.upstream.error) }),
              },
            }),
      });
      // serializeEvent throws invalid_input for what JSON cannot hold: nothing is linked then.
      lines.push(serializeEvent(event));
      lastHash = event.hash;
    },
    async close() {
      closed = true;
    },
  };
  return { sink, lines };
}

describeSinkContract(
  'an array sink written elsewhere',
  async (options) => {
    const { sink, lines } = createArraySink(options);
    return { sink, chained: true, lines: async () => [...lines] };
  },
  { describe, it },
);
