/**
 * `kvlar proxy` under load, short: the soak's driver (bench/load-driver.mjs) at a size `pnpm test`
 * can afford. Every answer is checked against its request, the server's record against the
 * policy, and the audit against the calls. Speed and memory are figures for `pnpm soak` to report;
 * nothing here depends on them.
 */
import { describe, expect, it } from 'vitest';
import {
  callOf,
  createLedger,
  type LoadReport,
  type LoadTransport,
  memoryProblem,
  runLoad,
} from '../bench/load-driver.mjs';
import { BIN, tempDir } from './helpers.js';

/** What the server (bench/load-server.mjs) answers to call `n` of `client`. */
function echo(client: number, n: number, via = '7:0'): unknown {
  const call = callOf(client, n, 4);
  const text = JSON.stringify({ tool: call.tool, arguments: call.arguments, via });
  return { jsonrpc: '2.0', id: n, result: { content: [{ type: 'text', text }] } };
}

/** What kvlar answers to a denied call of `tool`. */
function block(n: number, tool: string): unknown {
  return {
    jsonrpc: '2.0',
    id: n,
    result: {
      isError: true,
      content: [{ type: 'text', text: `[BLOCKED BY KVLAR]\nTool: ${tool}` }],
      _meta: { 'kvlar.io/decision': { tool, rule_id: 'deny-forbidden' } },
    },
  };
}

describe('the load checker', () => {
  it('accepts the echo of each allowed call and the block of each denied one', () => {
    const ledger = createLedger({ client: 2, calls: 4, denyEvery: 4 });
    for (let n = 1; n <= 4; n++) ledger.request(n);
    expect(callOf(2, 4, 4)).toMatchObject({ denied: true, tool: 'forbidden_2' });
    const kinds = [echo(2, 1), echo(2, 3), block(4, 'forbidden_2'), echo(2, 2)].map((message) =>
      ledger.accept(message),
    );
    expect(kinds).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(ledger.lost()).toBe(0);
    expect(ledger.via).toBe('7:0');
  });

  it('catches each way an answer can go wrong, and counts what never came as lost', () => {
    const ledger = createLedger({ client: 1, calls: 10, denyEvery: 4 });
    for (let n = 1; n <= 9; n++) ledger.request(n);
    const kinds = [
      echo(1, 1),
      echo(1, 1), // again
      echo(1, 10), // an id not sent yet
      echo(2, 2), // client 2's call 2, on client 1's connection
      block(4, 'forbidden_2'), // client 2's block
      echo(1, 5, '8:0'), // another upstream
      echo(1, 8), // a denied call that reached the server
      { jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'gone' } },
      { jsonrpc: '2.0', method: 'notifications/message', params: {} },
      { jsonrpc: '2.0', id: '6', result: {} },
    ].map((message) => ledger.accept(message));
    expect(kinds).toEqual([
      'ok',
      'duplicated',
      'misrouted',
      'misrouted',
      'misrouted',
      'misrouted',
      'misrouted',
      'wrong',
      'unexpected',
      'unexpected',
    ]);
    // Answered: 1, 2, 3, 4, 5, 8. Never: 6, 7, 9.
    expect(ledger.lost()).toBe(3);
    expect(ledger.examples).toHaveLength(5);
  });

  it('calls memory flat unless the end exceeds the middle by more than 30% + 20 MB', () => {
    expect(memoryProblem({ middle: 100e6, end: 150e6 })).toBeUndefined();
    expect(memoryProblem({ middle: 100e6, end: 151e6 })).toMatch(/RSS grew from 100\.0 MB/);
    expect(memoryProblem({ middle: undefined, end: 1 })).toMatch(/not sampled/);
  });
});

async function load(transport: LoadTransport, calls: number, clients = 1): Promise<LoadReport> {
  return runLoad({ transport, calls, clients, inFlight: 64, dir: await tempDir(), cli: BIN });
}

/** Every check at once, so a failure shows all that went wrong (`failures` says it in words). */
function expectCorrect(report: LoadReport, calls: number): void {
  expect({
    failures: report.failures,
    answers: report.answers,
    server: report.server,
    audit: {
      records: report.audit.records,
      verified: report.audit.verified,
      stats: report.audit.stats,
    },
    exit: report.exit,
  }).toEqual({
    failures: [],
    answers: {
      sent: calls,
      ok: calls,
      lost: 0,
      duplicated: 0,
      misrouted: 0,
      wrong: 0,
      unexpected: 0,
    },
    server: { received: report.allowed, expected: report.allowed, missing: 0, extra: 0 },
    audit: {
      records: calls,
      verified: true,
      stats: { events: calls, allowed: report.allowed, denied: report.denied },
    },
    exit: { code: 0, signal: null, killed: false },
  });
  expect(report.denied).toBeGreaterThan(0);
}

describe('kvlar proxy under load', () => {
  it('answers 5,000 calls over stdio, 64 in flight, each once and with its own answer; server and audit agree', async () => {
    const report = await load('stdio', 5000);
    expectCorrect(report, 5000);
  }, 90_000);

  it('keeps 4 TCP clients using the same ids apart over 1,000 calls each (a server per connection)', async () => {
    const report = await load('tcp-spawn', 4000, 4);
    expectCorrect(report, 4000);
  }, 90_000);

  it('keeps 4 TCP clients using the same ids apart over 1,000 calls each (--upstream)', async () => {
    const report = await load('tcp-upstream', 4000, 4);
    expectCorrect(report, 4000);
  }, 90_000);
});
