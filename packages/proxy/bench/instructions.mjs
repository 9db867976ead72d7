/**
 * Instructions per proxied call, counted by valgrind's callgrind: a measure that does not move
 * with the machine's load, for before/after comparisons of the proxy's own work.
 *
 *   node packages/proxy/bench/instructions.mjs [--calls N] [--warm-up N] [--large N] [--cli FILE]
 *     [--modes a,b]
 *
 * For each mode (the byte relay, the parse relay, kvlar with its defaults, kvlar with the JSONL
 * audit, flushed behind the calls (its default) and before each call goes on, and with result
 * records) it starts
 * the mode under callgrind in front of bench/line-echo-server.mjs (no SDK, so the proxy's part
 * is what varies), makes `--warm-up` sequential echo calls so the JIT settles (then `--large`
 * echo calls of 1 MB, answered as large answers are, for the state a proxy is in after them),
 * zeroes the counters, makes `--calls` more and divides. Only the proxy process is counted, not the server
 * or this client. Needs valgrind (Debian: `apt-get install valgrind`); takes about a minute a mode.
 * Counts are repeatable to about 1% for the same build; the JSONL mode varies more, since its
 * thread pool's timing changes what the main thread does. Each thread is counted apart: the main
 * thread (which reads, decides and writes) and the rest (V8's compiler and GC helpers, libuv's
 * pool). Valgrind runs one thread at a time, which stretches the helpers' work into the counted
 * calls; on Node 22 and 24 they count as much as the main thread, so compare the main thread's
 * counts across Node versions, and totals only within one. Where Node can, the kvlar modes are
 * given the settings `kvlar proxy` would start itself again with (docs/adr/027, 028).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '../../..');
const { values: options } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    'warm-up': { type: 'string', default: '2500' },
    /** 1 MB echo calls after the warm-up: a proxy's state after large answers. */
    large: { type: 'string', default: '0' },
    cli: { type: 'string', default: join(repoRoot, 'packages/cli/dist/bin.js') },
    /** Comma-separated: only these modes (relay is always counted, as the baseline). */
    modes: { type: 'string' },
  },
});
const calls = Number(options.calls);
const warmUp = Number(options['warm-up']);
const large = Number(options.large);

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  process.stderr.write('instructions.mjs needs valgrind (Debian: apt-get install valgrind)\n');
  process.exit(1);
}

const work = mkdtempSync(join(os.tmpdir(), 'kvlar-instructions-'));
const server = [process.execPath, join(benchDir, 'line-echo-server.mjs')];
const kvlar = [options.cli, 'proxy', '--stdio', '--policy', join(benchDir, 'allow-all.yaml')];
const MODES = {
  relay: [join(benchDir, 'relay.mjs'), ...server],
  parse: [join(benchDir, 'parse-relay.mjs'), ...server],
  kvlar: [...kvlar, '--', ...server],
  'kvlar-jsonl': [...kvlar, '--audit', join(work, 'audit.jsonl'), '--', ...server],
  'kvlar-jsonl-always': [
    ...kvlar,
    ...['--audit', join(work, 'audit-always.jsonl'), '--audit-sync', 'always'],
    ...['--', ...server],
  ],
  'kvlar-jsonl-results': [
    ...kvlar,
    ...['--audit', join(work, 'audit-results.jsonl'), '--audit-results'],
    ...['--', ...server],
  ],
};
const TEXT = 'The quick brown fox jumps over the lazy dog, 0123456789.';

// Where Node can, `kvlar proxy` starts itself again with these (docs/adr/027, 028), and the
// process it becomes would run outside valgrind. Given from the start, as a user may give them,
// they are what it runs with, and it does not start again.
const restarts = typeof process.execve === 'function';
const RESTART_ENV = restarts ? { MALLOC_ARENA_MAX: '1' } : {};
const RESTART_OPTIONS =
  restarts && Number.parseInt(process.versions.v8, 10) > 13 ? ['--max-semi-space-size=1'] : [];

async function count(mode, args) {
  const out = join(work, `callgrind-${mode}`);
  const isKvlar = mode !== 'relay' && mode !== 'parse';
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}`,
      process.execPath,
      ...(isKvlar ? [...RESTART_OPTIONS, ...args] : args),
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: work,
      env: isKvlar ? { ...process.env, ...RESTART_ENV } : process.env,
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let pending = '';
  let waiting;
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    pending += chunk;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      waiting?.(line);
    }
  });
  const exited = new Promise((done) => child.on('close', done));
  const call = (message) =>
    new Promise((answered, failed) => {
      waiting = answered;
      exited.then(() => failed(new Error(`${mode} exited; stderr: ${stderr}`)));
      child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  await call({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench', version: '1' },
    },
  });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  let id = 1;
  const echo = async (n, text = TEXT) => {
    for (let i = 0; i < n; i++) {
      const answer = await call({
        jsonrpc: '2.0',
        id: id++,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text } },
      });
      if (!answer.includes(text)) throw new Error(`${mode} answered ${answer.slice(0, 200)}`);
    }
  };
  await echo(warmUp);
  await echo(large, 'x'.repeat(1_000_000));
  execFileSync('callgrind_control', ['-z', String(child.pid)], { stdio: 'ignore' });
  await echo(calls);
  execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
  child.stdin.end();
  await exited;
  // The dump taken after the measured calls is part 1 (the one at exit, part 2), a file a thread.
  let main;
  let others = 0;
  for (const name of readdirSync(work).filter((file) => file.startsWith(`callgrind-${mode}`))) {
    const text = readFileSync(join(work, name), 'utf8');
    if (!/^part:\s*1$/m.test(text)) continue;
    const instructions = Number(/^(?:summary|totals):\s*(\d+)/m.exec(text)[1]) / calls;
    if (/^thread:\s*1$/m.test(text)) main = instructions;
    else others += instructions;
  }
  if (main === undefined) throw new Error(`${mode}: no callgrind dump of the main thread found`);
  return { total: main + others, main, others };
}

const results = {};
try {
  const wanted =
    options.modes === undefined ? undefined : new Set(['relay', ...options.modes.split(',')]);
  const unknown = [...(wanted ?? [])].filter((mode) => !Object.hasOwn(MODES, mode));
  if (unknown.length > 0) throw new Error(`unknown mode(s): ${unknown.join(', ')}`);
  for (const [mode, args] of Object.entries(MODES)) {
    if (wanted !== undefined && !wanted.has(mode)) continue;
    process.stderr.write(`counting ${mode}…\n`);
    results[mode] = await count(mode, args);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
const width = Math.max(4, ...Object.keys(results).map((mode) => mode.length));
const k = (instructions, width = 11) => (instructions / 1000).toFixed(1).padStart(width);
const rows = Object.entries(results).map(
  ([mode, { total, main, others }]) =>
    `| ${mode.padEnd(width)} | ${k(total)} | ${(total / results.relay.total).toFixed(2).padStart(8)}× | ${k(main)} | ${k(others, 13)} |`,
);
process.stdout.write(
  [
    `Instructions per sequential echo call in the proxy process (callgrind; ${warmUp} calls of warm-up${large > 0 ? `, then ${large} of 1 MB` : ''}, ${calls} counted), Node ${process.version}`,
    '',
    `| ${'mode'.padEnd(width)} | k instr.    | / relay   | main thread | other threads |`,
    `| :${'-'.repeat(width - 1)} | ----------: | --------: | ----------: | ------------: |`,
    ...rows,
    '',
  ].join('\n'),
);
