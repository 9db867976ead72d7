/**
 * Load for the real `kvlar proxy`: N `tools/call`s with K in flight per client, over stdio or TCP,
 * in front of bench/load-server.mjs, with the JSONL audit on. Shared by the short test
 * (test/load.test.ts, in `pnpm test`) and the long run (bench/soak.mjs, `pnpm soak`), so both
 * check the same things:
 *
 *   answers  every request id answered exactly once, by the answer to that request: an allowed
 *            call's echo carries its own arguments (client, n), a denied call's block names its
 *            own tool (one per client), and all of a client's echoes come from one upstream;
 *   server   the server received exactly the allowed calls, each once, and no denied one;
 *   audit    exactly one record per call, with the right agent, outcome and session, and
 *            `kvlar audit verify` passes (`kvlar audit stats` agrees on the counts);
 *   exit     kvlar ends cleanly (exit 0) and writes nothing but JSON-RPC on stdout.
 *
 * Clients write raw JSON-RPC lines, so ids are exact: each TCP client numbers its calls 1…N, the
 * same ids on every connection on purpose. A run reports failures as data (`failures`, empty
 * when correct) and the proxy's RSS as figures; deciding what a figure means is the caller's job.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { markdownTable } from '../../proxy/bench/report.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
export const LOAD_SERVER = join(benchDir, 'load-server.mjs');
export const DEFAULT_CLI = join(benchDir, '../dist/bin.js');

export const TRANSPORTS = ['stdio', 'tcp-spawn', 'tcp-upstream'];

/** `echo` is allowed; each client's `forbidden_<c>` is denied by a rule; anything else by default. */
export const LOAD_POLICY = `name: load
version: "1"
rules:
  - id: deny-forbidden
    match_on:
      resources: ["forbidden_*"]
    effect: { type: deny, reason: forbidden under load }
  - id: allow-echo
    match_on:
      resources: [echo]
    effect: { type: allow }
`;

const DENY_RULE = 'deny-forbidden';
const BLOCKED = '[BLOCKED BY KVLAR]';
const PAD = 'The quick brown fox jumps over the lazy dog.';
const EXAMPLES = 5;
const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 20_000;

/** The name a client gives in `initialize`, which kvlar takes as its agent id. */
export const agentOf = (client) => `load-client-${client}`;

/** Call `n` (1-based) of `client`: every `denyEvery`-th is denied, the others are allowed. */
export function callOf(client, n, denyEvery) {
  const denied = n % denyEvery === 0;
  return {
    denied,
    tool: denied ? `forbidden_${client}` : 'echo',
    arguments: { client, n, text: `${PAD} ${client}/${n}` },
  };
}

/**
 * One client's side of the run: the request lines it sends and the check of every message it
 * receives. Pure, so the checks themselves are tested (a checker that cannot fail proves nothing).
 *
 * Each message is one of: `ok`; `duplicated` (an id answered before); `misrouted` (an id this
 * client has not sent, or the answer to another request: other arguments, another tool, another
 * upstream); `wrong` (the right id but not a proper answer: an error, a malformed result);
 * `unexpected` (no id this client uses: a notification, `id: null`, a string id).
 */
export function createLedger({ client, calls, denyEvery }) {
  const sent = new Uint8Array(calls + 1);
  const answered = new Uint8Array(calls + 1);
  const counts = {
    sent: 0,
    answered: 0,
    ok: 0,
    duplicated: 0,
    misrouted: 0,
    wrong: 0,
    unexpected: 0,
  };
  const examples = [];
  let via;

  const note = (kind, message, why) => {
    counts[kind] += 1;
    if (examples.length < EXAMPLES) {
      examples.push(`client ${client}: ${kind} (${why}): ${JSON.stringify(message).slice(0, 300)}`);
    }
    return kind;
  };

  /** What is wrong with `message` as the answer to call `n`, or undefined if nothing is. */
  function problemOf(n, message) {
    const expected = callOf(client, n, denyEvery);
    const result = message.result;
    if (typeof result !== 'object' || result === null) return ['wrong', 'no result'];
    const text = result.content?.[0]?.text;
    if (typeof text !== 'string') return ['wrong', 'no text content'];
    if (expected.denied) {
      const decision = result._meta?.['kvlar.io/decision'];
      if (result.isError !== true || !text.startsWith(BLOCKED) || decision === undefined) {
        return text.startsWith('{')
          ? ['misrouted', 'a denied call was answered by the server']
          : ['wrong', 'not a block'];
      }
      if (decision.tool !== expected.tool || decision.rule_id !== DENY_RULE) {
        return ['misrouted', `the block of ${decision.tool} by ${decision.rule_id}`];
      }
      return undefined;
    }
    if (result.isError === true) return ['wrong', 'an error result'];
    let echoed;
    try {
      echoed = JSON.parse(text);
    } catch {
      return ['wrong', 'text is not the echo'];
    }
    if (typeof echoed !== 'object' || echoed === null) return ['wrong', 'text is not the echo'];
    const args = echoed.arguments ?? {};
    if (
      echoed.tool !== expected.tool ||
      args.client !== client ||
      args.n !== n ||
      args.text !== expected.arguments.text ||
      Object.keys(args).length !== 3
    ) {
      return ['misrouted', `the echo of ${echoed.tool} ${JSON.stringify(args).slice(0, 80)}`];
    }
    if (via === undefined) via = echoed.via;
    else if (echoed.via !== via) return ['misrouted', `from upstream ${echoed.via}, not ${via}`];
    return undefined;
  }

  return {
    client,
    calls,
    counts,
    examples,
    /** Which upstream (server pid:connection) answered this client's echoes. */
    get via() {
      return via;
    },
    /** Request `n` as one JSON-RPC line, newline included. */
    request(n) {
      const call = callOf(client, n, denyEvery);
      sent[n] = 1;
      counts.sent += 1;
      const params = { name: call.tool, arguments: call.arguments };
      return `${JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params })}\n`;
    },
    /** Checks one received message; returns its kind. Only an answer to a sent id counts. */
    accept(message) {
      const id = typeof message === 'object' && message !== null ? message.id : undefined;
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > calls) {
        return note('unexpected', message, 'not one of this client’s ids');
      }
      if (answered[id] === 1) return note('duplicated', message, `id ${id} again`);
      if (sent[id] !== 1) return note('misrouted', message, `id ${id} not sent yet`);
      answered[id] = 1;
      counts.answered += 1;
      const problem = problemOf(id, message);
      if (problem !== undefined) return note(problem[0], message, problem[1]);
      counts.ok += 1;
      return 'ok';
    },
    /** Sent and never answered. */
    lost() {
      return counts.sent - counts.answered;
    },
  };
}

// ── processes ─────────────────────────────────────────────────────────────────────────────────

/** Current and peak RSS of a process, in bytes, from /proc; undefined where there is none. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rssBytes: kib('VmRSS') * 1024, peakRssBytes: kib('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A timeout to race against: it does not keep the process alive once the race is decided. */
function deadline(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function until(condition, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) return false;
    await delay(10);
  }
  return true;
}

/** A child process with its output kept (stderr's last 20,000 characters) and its exit awaited. */
function launch(args, options) {
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const state = { stdout: '', stderr: '', exit: undefined };
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    state.stderr = (state.stderr + chunk).slice(-20_000);
  });
  child.stdin.on('error', () => {});
  state.exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      state.exit = { code, signal };
      resolve(state.exit);
    });
  });
  return { child, state };
}

async function stop(proc, signal, timeoutMs = EXIT_TIMEOUT_MS) {
  if (proc.state.exit !== undefined) return { ...proc.state.exit, killed: false };
  if (signal !== undefined) proc.child.kill(signal);
  const exit = await Promise.race([proc.state.exited, deadline(timeoutMs)]);
  if (exit !== undefined) return { ...exit, killed: false };
  proc.child.kill('SIGKILL');
  return { ...(await proc.state.exited), killed: true };
}

/** Splits a stream into parsed lines; a line that is not JSON becomes `{unparsed: line}`. */
function lineParser(onMessages) {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    const messages = [];
    for (const part of parts) {
      if (part === '') continue;
      try {
        messages.push(JSON.parse(part));
      } catch {
        messages.push({ unparsed: part.slice(0, 300) });
      }
    }
    if (messages.length > 0) onMessages(messages);
  };
}

function initializeLine(client) {
  return `${JSON.stringify({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: agentOf(client), version: '1.0.0' },
    },
  })}\n`;
}

const INITIALIZED = `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`;

// ── the run ───────────────────────────────────────────────────────────────────────────────────

/**
 * Runs one load against a fresh kvlar in `dir` and checks it. Options: `transport` (one of
 * TRANSPORTS), `calls` in all, `inFlight` per client, `clients` (TCP; stdio has one), `denyEvery`
 * (default 4: a quarter denied), `cli` (bin.js), `stallMs` (no answer for this long ends the run:
 * what is outstanding is lost), `onProgress(message)`.
 */
export async function runLoad(options) {
  const { transport, calls, inFlight, dir, cli = DEFAULT_CLI, denyEvery = 4 } = options;
  if (!TRANSPORTS.includes(transport)) throw new Error(`unknown transport ${transport}`);
  const clients = transport === 'stdio' ? 1 : (options.clients ?? 4);
  if (!(calls >= clients && inFlight >= 1)) {
    throw new Error('need a call per client, and inFlight ≥ 1');
  }
  const files = {
    policy: join(dir, 'policy.yaml'),
    auditDir: join(dir, 'audit'),
    audit: join(dir, 'audit', 'audit.jsonl'),
    servers: join(dir, 'servers'),
  };
  mkdirSync(files.auditDir, { recursive: true });
  mkdirSync(files.servers, { recursive: true });
  writeFileSync(files.policy, LOAD_POLICY);
  const env = { ...process.env, KVLAR_HOME: join(dir, 'kvlar-home') };
  delete env.KVLAR_DEBUG;
  const context = { transport, clients, cli, dir, env, files, denyEvery };

  // Calls per client: as even as possible.
  const ledgers = Array.from({ length: clients }, (_, index) =>
    createLedger({
      client: index + 1,
      calls: Math.floor(calls / clients) + (index < calls % clients ? 1 : 0),
      denyEvery,
    }),
  );
  const failures = [];
  const started = [];
  try {
    const upstream = await startUpstream(context, started);
    const kvlar = launch(kvlarArgs(context, upstream.args), { cwd: dir, env });
    started.push(kvlar);
    const endpoints = await connect(context, kvlar);
    const early = await initialize(endpoints, ledgers, kvlar);
    const run = await drive(endpoints, ledgers, kvlar, options);
    for (const message of early) {
      failures.push(`before the load: ${JSON.stringify(message).slice(0, 200)}`);
    }
    if (run.outcome !== 'done') failures.push(`the run stopped: ${run.outcome}`);
    const exit = await shutdown(context, endpoints, kvlar, upstream.server, failures);

    const denied = ledgers.reduce((sum, ledger) => sum + Math.floor(ledger.calls / denyEvery), 0);
    const pick = (tenth) => run.rssTimeline[tenth - 1]?.rssBytes;
    return {
      transport,
      clients,
      inFlight,
      calls,
      allowed: calls - denied,
      denied,
      durationMs: run.durationMs,
      callsPerSecond: run.answered / (run.durationMs / 1000),
      rss: {
        start: pick(1),
        middle: pick(5),
        end: run.endMemory?.rssBytes,
        peak: run.endMemory?.peakRssBytes,
        timeline: run.rssTimeline,
      },
      answers: checkAnswers(ledgers, failures),
      server: checkServer(ledgers, files.servers, denyEvery, failures),
      audit: await checkAudit(ledgers, context, failures),
      exit,
      failures,
    };
  } finally {
    for (const proc of started) {
      if (proc.state.exit === undefined) proc.child.kill('SIGKILL');
    }
  }
}

/** For `--upstream`, the TCP server process; otherwise the command kvlar spawns. */
async function startUpstream({ transport, dir, env, files }, started) {
  if (transport !== 'tcp-upstream') {
    return { args: ['--', process.execPath, LOAD_SERVER, 'stdio', files.servers] };
  }
  const server = launch([LOAD_SERVER, 'tcp', files.servers], { cwd: dir, env });
  started.push(server);
  server.child.stdout.setEncoding('utf8').on('data', (chunk) => {
    server.state.stdout += chunk;
  });
  const port = () => /"port":(\d+)/.exec(server.state.stdout)?.[1];
  await until(() => port() !== undefined || server.state.exit !== undefined, START_TIMEOUT_MS);
  if (port() === undefined) {
    throw new Error(`the upstream server did not start: ${server.state.stderr}`);
  }
  return { args: ['--upstream', `127.0.0.1:${port()}`], server };
}

function kvlarArgs({ transport, cli, files }, upstreamArgs) {
  const where = transport === 'stdio' ? ['--stdio'] : ['--listen', '127.0.0.1:0'];
  return [
    cli,
    'proxy',
    ...where,
    '--policy',
    files.policy,
    '--audit',
    files.audit,
    ...upstreamArgs,
  ];
}

/**
 * The clients' ends: kvlar's stdin/stdout, or a TCP connection each (port 0: the port is read
 * from kvlar's `listening on` line, as the TCP tests do). Each has `write`, `end`, `listen` and
 * `closed`.
 */
async function connect({ transport, clients }, kvlar) {
  let onStdout;
  kvlar.child.stdout.setEncoding('utf8').on('data', (chunk) => {
    // In TCP mode, stdout must stay empty: keep the start of anything written there.
    if (onStdout === undefined) kvlar.state.stdout += chunk.slice(0, 2000);
    else onStdout(chunk);
  });
  if (transport === 'stdio') {
    return [
      {
        write: (text) => kvlar.child.stdin.write(text),
        end: () => kvlar.child.stdin.end(),
        listen: (handler) => {
          onStdout = handler;
        },
        closed: kvlar.state.exited,
      },
    ];
  }
  const listening = () =>
    /kvlar proxy listening on 127\.0\.0\.1:(\d+) /.exec(kvlar.state.stderr)?.[1];
  await until(() => listening() !== undefined || kvlar.state.exit !== undefined, START_TIMEOUT_MS);
  if (listening() === undefined) throw new Error(`kvlar did not listen: ${kvlar.state.stderr}`);
  const port = Number(listening());
  const endpoints = [];
  for (let index = 0; index < clients; index++) {
    const socket = createConnection(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    // A reset shows as a close; what was lost shows in the checks.
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.setEncoding('utf8');
    endpoints.push({
      write: (text) => socket.write(text),
      end: () => socket.end(),
      listen: (handler) => socket.on('data', handler),
      closed,
    });
  }
  return endpoints;
}

/**
 * `initialize` on every endpoint, all at once; from then on each endpoint passes what it receives
 * to its `onMessages`. Returns the messages that came before the load started, which should be
 * none.
 */
async function initialize(endpoints, ledgers, kvlar) {
  const early = [];
  await Promise.all(
    endpoints.map((endpoint, index) => {
      endpoint.onMessages = (messages) => early.push(...messages);
      return new Promise((resolve, reject) => {
        let initialized = false;
        endpoint.listen(
          lineParser((messages) => {
            let rest = messages;
            if (!initialized) {
              const answer = messages.findIndex((message) => message.id === 'init');
              if (answer === -1) {
                early.push(...messages);
                return;
              }
              initialized = true;
              endpoint.write(INITIALIZED);
              resolve();
              early.push(...messages.slice(0, answer));
              rest = messages.slice(answer + 1);
            }
            if (rest.length > 0) endpoint.onMessages(rest);
          }),
        );
        endpoint.write(initializeLine(ledgers[index].client));
        void Promise.race([endpoint.closed, deadline(START_TIMEOUT_MS)]).then(() => {
          if (initialized) return;
          reject(new Error(`client ${index + 1} got no initialize answer: ${kvlar.state.stderr}`));
        });
      });
    }),
  );
  return early;
}

/**
 * The load itself: each client sends `inFlight` calls, then one more for each answer, so it keeps
 * `inFlight` outstanding until its last. The proxy's RSS is read at every tenth of the answers.
 * Ends when every call is answered, when kvlar exits, or after `stallMs` without an answer.
 */
async function drive(endpoints, ledgers, kvlar, options) {
  const { transport, inFlight, stallMs = 30_000, onProgress = () => {} } = options;
  const pid = kvlar.child.pid;
  const total = ledgers.reduce((sum, ledger) => sum + ledger.calls, 0);
  const tenths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((tenth) => Math.ceil((tenth * total) / 10));
  const rssTimeline = [];
  let answered = 0;
  let lastAnswer = Date.now();
  let unfinished = ledgers.length;
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  const startedAt = process.hrtime.bigint();
  endpoints.forEach((endpoint, index) => {
    const ledger = ledgers[index];
    let next = 1;
    endpoint.onMessages = (messages) => {
      let out = '';
      for (const message of messages) {
        const before = ledger.counts.answered;
        ledger.accept(message);
        if (ledger.counts.answered === before) continue;
        answered += 1;
        lastAnswer = Date.now();
        while (tenths.length > 0 && answered >= tenths[0]) {
          rssTimeline.push({ answered: tenths.shift(), ...memoryOf(pid) });
        }
        if (next <= ledger.calls) out += ledger.request(next++);
        else if (ledger.counts.answered === ledger.calls && --unfinished === 0) finish('done');
      }
      // All of a chunk's follow-up calls in one write, as a busy client would.
      if (out !== '') endpoint.write(out);
    };
    let out = '';
    while (next <= Math.min(inFlight, ledger.calls)) out += ledger.request(next++);
    endpoint.write(out);
  });
  let reported = 0;
  const watchdog = setInterval(() => {
    if (kvlar.state.exit !== undefined) finish('kvlar exited');
    else if (Date.now() - lastAnswer > stallMs) finish(`no answer for ${stallMs} ms`);
    const tenth = Math.floor((answered / total) * 10);
    if (tenth > reported) {
      reported = tenth;
      onProgress(
        `  ${transport}: ${answered.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} answered`,
      );
    }
  }, 250);
  const outcome = await done;
  clearInterval(watchdog);
  const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  return { outcome, answered, durationMs, rssTimeline, endMemory: memoryOf(pid) };
}

/**
 * Clients leave (stdio: kvlar's stdin ends and it exits by itself; TCP: the connections end, then
 * SIGTERM, as a service is stopped). Waits for each server session to write what it received.
 */
async function shutdown({ transport, clients, files }, endpoints, kvlar, upstreamServer, failures) {
  for (const endpoint of endpoints) endpoint.end();
  if (transport !== 'stdio') {
    const closed = Promise.all(endpoints.map((endpoint) => endpoint.closed));
    await Promise.race([closed, deadline(EXIT_TIMEOUT_MS)]);
  }
  const serverFiles = () => readdirSync(files.servers).filter((name) => name.endsWith('.json'));
  if (!(await until(() => serverFiles().length >= clients, EXIT_TIMEOUT_MS))) {
    failures.push(`${serverFiles().length} of ${clients} server sessions said what they received`);
  }
  const exit = await stop(kvlar, transport === 'stdio' ? undefined : 'SIGTERM');
  if (exit.code !== 0 || exit.killed) {
    const said = kvlar.state.stderr.slice(-1000);
    failures.push(`kvlar exited with ${JSON.stringify(exit)}; stderr: ${said}`);
  }
  if (transport !== 'stdio' && kvlar.state.stdout !== '') {
    failures.push(`kvlar wrote to stdout in TCP mode: ${kvlar.state.stdout.slice(0, 200)}`);
  }
  if (upstreamServer !== undefined) await stop(upstreamServer, 'SIGTERM');
  return exit;
}

// ── checks after the run ──────────────────────────────────────────────────────────────────────

function checkAnswers(ledgers, failures) {
  const sum = (pick) => ledgers.reduce((total, ledger) => total + pick(ledger), 0);
  const answers = {
    sent: sum((l) => l.counts.sent),
    ok: sum((l) => l.counts.ok),
    lost: sum((l) => l.lost()),
    duplicated: sum((l) => l.counts.duplicated),
    misrouted: sum((l) => l.counts.misrouted),
    wrong: sum((l) => l.counts.wrong),
    unexpected: sum((l) => l.counts.unexpected),
  };
  for (const [kind, count] of Object.entries(answers)) {
    if (kind !== 'sent' && kind !== 'ok' && count > 0) failures.push(`${count} ${kind} answer(s)`);
  }
  for (const ledger of ledgers) failures.push(...ledger.examples);
  // Each client has its own upstream (a connection, or a server process).
  const vias = ledgers.map((ledger) => ledger.via);
  if (new Set(vias).size !== vias.length) {
    failures.push(`clients shared an upstream: ${vias.join(', ')}`);
  }
  return answers;
}

function checkServer(ledgers, serverDir, denyEvery, failures) {
  const received = new Map();
  const unexpected = [];
  let calls = 0;
  for (const name of readdirSync(serverDir).filter((file) => file.endsWith('.json'))) {
    const summary = JSON.parse(readFileSync(join(serverDir, name), 'utf8'));
    calls += summary.calls;
    unexpected.push(...summary.unexpected);
    // One upstream session serves one client: calls of two clients on one is cross-session.
    const from = Object.keys(summary.received);
    if (from.length > 1)
      failures.push(`server session ${summary.via} got calls of clients ${from}`);
    for (const [client, list] of Object.entries(summary.received)) {
      received.set(client, [...(received.get(client) ?? []), ...list]);
    }
  }
  let expected = 0;
  let missing = 0;
  let extra = 0;
  for (const ledger of ledgers) {
    const seen = new Uint8Array(ledger.calls + 1);
    for (const n of received.get(String(ledger.client)) ?? []) {
      if (!Number.isInteger(n) || n < 1 || n > ledger.calls || seen[n] === 1) extra++;
      else if (callOf(ledger.client, n, denyEvery).denied) extra++;
      else seen[n] = 1;
    }
    for (let n = 1; n <= ledger.calls; n++) {
      if (callOf(ledger.client, n, denyEvery).denied) continue;
      expected++;
      if (seen[n] === 0) missing++;
    }
  }
  if (calls !== expected) failures.push(`the server received ${calls} calls, expected ${expected}`);
  if (missing > 0) failures.push(`${missing} allowed call(s) never reached the server`);
  if (extra > 0) failures.push(`${extra} call(s) reached the server twice, or should not have`);
  if (unexpected.length > 0)
    failures.push(`denied tools reached the server: ${unexpected.join(', ')}`);
  return { received: calls, expected, missing, extra };
}

/** `kvlar ...args`, with its stdout parsed as JSON. */
function kvlarJson(cli, args, options) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => {
      let json;
      try {
        json = JSON.parse(stdout);
      } catch {}
      resolve({ code, json, stderr });
    });
  });
}

async function checkAudit(ledgers, context, failures) {
  const { cli, dir, env, denyEvery, clients, files } = context;
  const byClient = new Map(ledgers.map((ledger) => [ledger.client, ledger]));
  const seen = new Map(ledgers.map((ledger) => [ledger.client, new Uint8Array(ledger.calls + 1)]));
  const sessions = new Map();
  const counts = {
    records: 0,
    expected: 0,
    missing: 0,
    duplicated: 0,
    mismatched: 0,
    other: 0,
    torn: 0,
  };
  const examples = [];
  const bad = (kind, why) => {
    counts[kind] += 1;
    if (examples.length < EXAMPLES) examples.push(`audit: ${kind}: ${why}`);
  };
  // Every file of the chain (a rotated log keeps its predecessors beside it), a line at a time:
  // a long soak's log outgrows the longest string V8 can hold.
  for (const name of readdirSync(files.auditDir).filter((file) => file.endsWith('.jsonl'))) {
    const input = createReadStream(join(files.auditDir, name));
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line === '') continue;
      let record;
      try {
        record = JSON.parse(line);
      } catch {
        bad('torn', line.slice(0, 200));
        continue;
      }
      counts.records += 1;
      const client = record.parameters?.client;
      const n = record.parameters?.n;
      const ledger = byClient.get(client);
      if (
        record.action_type !== 'tool_call' ||
        ledger === undefined ||
        !Number.isInteger(n) ||
        n < 1 ||
        n > ledger.calls
      ) {
        bad('other', line.slice(0, 200));
        continue;
      }
      if (seen.get(client)[n] === 1) {
        bad('duplicated', `client ${client} call ${n}`);
        continue;
      }
      seen.get(client)[n] = 1;
      const call = callOf(client, n, denyEvery);
      const outcome = call.denied ? 'denied' : 'allowed';
      if (
        record.resource !== call.tool ||
        record.agent_id !== agentOf(client) ||
        record.outcome !== outcome
      ) {
        bad('mismatched', line.slice(0, 200));
      }
      if (!sessions.has(client)) sessions.set(client, record.session);
      else if (sessions.get(client) !== record.session)
        bad('mismatched', `client ${client} in two sessions`);
    }
  }
  for (const ledger of ledgers) {
    const marks = seen.get(ledger.client);
    for (let n = 1; n <= ledger.calls; n++) {
      counts.expected += 1;
      if (marks[n] === 0) counts.missing += 1;
    }
  }
  if (new Set(sessions.values()).size !== clients) {
    failures.push(`audit: ${clients} clients in ${new Set(sessions.values()).size} sessions`);
  }
  for (const kind of ['missing', 'duplicated', 'mismatched', 'other', 'torn']) {
    if (counts[kind] > 0) failures.push(`audit: ${counts[kind]} ${kind} record(s)`);
  }
  failures.push(...examples);

  const options = { cwd: dir, env };
  const verify = await kvlarJson(cli, ['audit', 'verify', files.audit, '--json'], options);
  if (verify.code !== 0 || verify.json?.ok !== true) {
    failures.push(
      `kvlar audit verify failed (exit ${verify.code}): ${JSON.stringify(verify.json?.failure) ?? verify.stderr}`,
    );
  }
  const stats = await kvlarJson(cli, ['audit', 'stats', '-f', files.audit, '--json'], options);
  const denied = ledgers.reduce((sum, ledger) => sum + Math.floor(ledger.calls / denyEvery), 0);
  const statsCounts = {
    events: stats.json?.events,
    allowed: stats.json?.outcomes?.allowed,
    denied: stats.json?.outcomes?.denied,
  };
  if (stats.code !== 0) {
    failures.push(`kvlar audit stats failed (exit ${stats.code}): ${stats.stderr.trim()}`);
  } else if (
    statsCounts.events !== counts.expected ||
    statsCounts.denied !== denied ||
    statsCounts.allowed !== counts.expected - denied
  ) {
    failures.push(
      `kvlar audit stats counts ${JSON.stringify(statsCounts)}; expected ${counts.expected} events, ${denied} denied`,
    );
  }
  return {
    ...counts,
    verified: verify.code === 0 && verify.json?.ok === true,
    verifiedRecords: verify.json?.records,
    stats: statsCounts,
  };
}

// ── memory and the report ─────────────────────────────────────────────────────────────────────

/**
 * The soak's memory bound: the proxy's RSS at the end may exceed its RSS in the middle of the
 * run by at most `ratio` plus `slackBytes`. Returns the failure, or undefined.
 */
export function memoryProblem(rss, { ratio = 0.3, slackBytes = 20e6 } = {}) {
  if (rss.middle === undefined || rss.end === undefined) return 'RSS was not sampled (no /proc?)';
  const bound = rss.middle * (1 + ratio) + slackBytes;
  return rss.end > bound
    ? `RSS grew from ${mb(rss.middle)} MB (middle) to ${mb(rss.end)} MB (end), over the bound ${mb(bound)} MB`
    : undefined;
}

const mb = (bytes) => (bytes === undefined ? 'n/a' : (bytes / 1e6).toFixed(1));
const int = (value) => (value === undefined ? 'n/a' : Math.round(value).toLocaleString('en-US'));

/** The runs as two markdown tables: figures, then checks. MB are 10⁶ bytes. */
export function renderLoadReport(reports) {
  const figures = markdownTable(
    [
      'transport',
      'clients × in flight',
      'calls',
      'allowed / denied',
      'seconds',
      'calls/s',
      'RSS start MB',
      'RSS middle MB',
      'RSS end MB',
      'peak RSS MB',
    ],
    reports.map((r) => [
      r.transport,
      `${r.clients} × ${r.inFlight}`,
      int(r.calls),
      `${int(r.allowed)} / ${int(r.denied)}`,
      (r.durationMs / 1000).toFixed(1),
      int(r.callsPerSecond),
      mb(r.rss.start),
      mb(r.rss.middle),
      mb(r.rss.end),
      mb(r.rss.peak),
    ]),
    new Set([0]),
  );
  const checks = markdownTable(
    [
      'transport',
      'lost',
      'duplicated',
      'misrouted',
      'wrong',
      'unexpected',
      'server got / allowed',
      'audit records / calls',
      'audit verify',
      'exit',
      'verdict',
    ],
    reports.map((r) => [
      r.transport,
      ...['lost', 'duplicated', 'misrouted', 'wrong', 'unexpected'].map((k) => int(r.answers[k])),
      `${int(r.server.received)} / ${int(r.server.expected)}`,
      `${int(r.audit.records)} / ${int(r.audit.expected)}`,
      r.audit.verified ? `ok, ${int(r.audit.verifiedRecords)} records` : 'FAILED',
      String(r.exit.code ?? r.exit.signal),
      r.failures.length === 0 ? 'pass' : 'FAIL',
    ]),
    new Set([0, 8, 9, 10]),
  );
  return `${figures}\n\n${checks}`;
}
