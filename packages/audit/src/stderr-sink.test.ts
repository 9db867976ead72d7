import { describe, expect, it } from 'vitest';
import { entry, fixedRecordOptions, resultEntry } from '../test/fixtures.js';
import { describeSinkContract } from './contract.js';
import { AuditError, createStderrSink, type TextStream, verifyChain } from './index.js';

/** A stream that keeps what it is given and accepts it on the next tick, like a pipe. */
function fakeStream(isTTY = false) {
  const chunks: string[] = [];
  const stream: TextStream = {
    isTTY,
    write(chunk, callback) {
      setImmediate(() => {
        chunks.push(chunk);
        callback();
      });
      return true;
    },
  };
  return { stream, lines: async () => chunks.join('').split('\n').slice(0, -1) };
}

describeSinkContract(
  'createStderrSink (human)',
  async (options) => {
    const { stream, lines } = fakeStream();
    return {
      sink: createStderrSink({ ...options, stream, format: 'human' }),
      chained: false,
      lines,
    };
  },
  { describe, it },
);

describeSinkContract(
  'createStderrSink (json)',
  async (options) => {
    const { stream, lines } = fakeStream();
    return { sink: createStderrSink({ ...options, stream, format: 'json' }), chained: true, lines };
  },
  { describe, it },
);

describe('createStderrSink', () => {
  it('writes one plain line per decision when the stream is not a terminal', async () => {
    const { stream, lines } = fakeStream();
    const sink = createStderrSink({ ...fixedRecordOptions(), stream });
    await sink.write(
      entry({
        resource: 'bash',
        server: 'shell',
        outcome: 'denied',
        matched_rule: 'deny-shell',
        reason: 'shell access is off',
      }),
    );
    expect(await lines()).toEqual([
      '2025-03-01T12:00:00.000Z  DENY      shell/bash  agent=claude-desktop  rule=deny-shell  — shell access is off',
    ]);
  });

  it('colours the outcome on a terminal and shows approval answers and upstream results', async () => {
    const { stream, lines } = fakeStream(true);
    const sink = createStderrSink({ ...fixedRecordOptions(), stream });
    const approved = entry({
      outcome: 'allowed',
      call_id: 'id-0',
      approval: { approver: 'alice', channel: 'webhook', decision: 'approved', latency_ms: 1200 },
    });
    await sink.write(approved);
    await sink.write(resultEntry(approved, 'id-0', { ok: true, duration_ms: 35 }));
    const [answer, result] = await lines();
    expect(answer).toContain('\u001b[32mALLOW   \u001b[0m');
    expect(answer).toContain('[approval approved by alice via webhook, 1200ms]');
    expect(result).toContain('\u001b[32mRESULT  \u001b[0m');
    expect(result).toContain('rule=allow-reads  [upstream ok, 35ms]');
  });

  it('escapes control characters so a tool name cannot forge a line or drive the terminal', async () => {
    const { stream, lines } = fakeStream();
    const sink = createStderrSink({ ...fixedRecordOptions(), stream });
    await sink.write(entry({ resource: 'x\n2025-01-01 ALLOW fake\u001b[2J\u202e' }));
    const output = await lines();
    expect(output).toHaveLength(1);
    expect(output[0]).toContain('x\\u000a2025-01-01 ALLOW fake\\u001b[2J\\u202e');
  });

  it('writes records a verifier accepts in json format', async () => {
    const { stream, lines } = fakeStream();
    const sink = createStderrSink({ ...fixedRecordOptions(), stream, format: 'json' });
    await sink.write(entry());
    await sink.write(entry());
    expect(verifyChain(await lines())).toMatchObject({ ok: true, records: 2 });
  });

  it('rejects the write and every later one once the stream fails', async () => {
    const stream: TextStream = {
      write(_chunk, callback) {
        callback(new Error('EPIPE'));
        return false;
      },
    };
    const sink = createStderrSink({ ...fixedRecordOptions(), stream });
    const isWriteFailure = (error: unknown) =>
      AuditError.isInstance(error) && error.code === 'audit_write_failed';
    await expect(sink.write(entry())).rejects.toSatisfy(isWriteFailure);
    await expect(sink.write(entry())).rejects.toSatisfy(isWriteFailure);
  });
});
