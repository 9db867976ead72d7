/** Drives `kvlar proxy --stdio` with raw lines, in front of the recording fixture server. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { BIN, lines, tempDir } from './helpers.js';

export const RECORDING_SERVER = fileURLToPath(
  new URL('./fixtures/proxy/recording-server.mjs', import.meta.url),
);

/**
 * Denies `rm`, allows the fixture's other tools but `big` (proxy-memory.test.ts allows it with a
 * policy of its own); anything else falls to the default deny.
 */
export const RECORDING_POLICY = `name: recording
version: "1"
rules:
  - id: deny-rm
    match_on:
      resources: [rm]
    effect: { type: deny, reason: rm is not allowed }
  - id: allow-fixture-tools
    match_on:
      resources: [safe, slow, crash, inject, spam]
    effect: { type: allow }
`;

export type JsonObject = Record<string, unknown>;

/**
 * The arguments that run `server` (a Node script and its arguments) behind
 * `kvlar proxy --stdio` with `flags`, for `spawn(process.execPath, …)` or the SDK's
 * `StdioClientTransport`.
 */
export function proxyArgs(flags: readonly string[], server: readonly string[]): string[] {
  return [BIN, 'proxy', '--stdio', ...flags, '--', process.execPath, ...server];
}

export interface RawProxy {
  readonly child: ChildProcess;
  /** Where the server appends every line it receives. */
  readonly recordFile: string;
  readonly auditFile: string;
  /** Writes each text as one line on kvlar's stdin. */
  send(...texts: string[]): void;
  /** Every line kvlar wrote to stdout so far, parsed. */
  readonly received: unknown[];
  /** Resolves once `done(received)` holds; rejects after `timeoutMs`. */
  waitFor(done: (received: readonly unknown[]) => boolean, timeoutMs?: number): Promise<void>;
  /** The first answer (not inside a batch) with this id. */
  answerTo(id: string | number, timeoutMs?: number): Promise<JsonObject>;
  /** Sends `initialize` and `notifications/initialized`, and waits for the answer. */
  initialize(): Promise<void>;
  /** Ends kvlar's stdin, as a client that goes away does. */
  closeInput(): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  /** Kills kvlar if it is still running (SIGKILL), for cleanup; resolves once it has exited. */
  kill(): Promise<void>;
}

export interface RawProxyOptions {
  readonly policy?: string;
  readonly flags?: readonly string[];
  /** Extra arguments for the recording server after its record file. */
  readonly serverArgs?: readonly string[];
  /** Added to kvlar's environment (which its server inherits). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `kvlar proxy --stdio` in front of a fresh recording server, in a fresh temp dir. */
export async function startRawProxy(options: RawProxyOptions = {}): Promise<RawProxy> {
  const dir = await tempDir({ 'policy.yaml': options.policy ?? RECORDING_POLICY });
  const recordFile = join(dir, 'server-received.jsonl');
  const auditFile = join(dir, 'audit.jsonl');
  const child = spawn(
    process.execPath,
    proxyArgs(
      ['--policy', join(dir, 'policy.yaml'), '--audit', auditFile, ...(options.flags ?? [])],
      [RECORDING_SERVER, recordFile, ...(options.serverArgs ?? [])],
    ),
    {
      cwd: dir,
      stdio: ['pipe', 'pipe', 'pipe'],
      // A proxy with --admin announces itself in $KVLAR_HOME/run: never in the real home.
      env: {
        ...process.env,
        KVLAR_HOME: process.env.KVLAR_HOME ?? join(dir, 'kvlar-home'),
        ...options.env,
      },
    },
  );
  const received: unknown[] = [];
  const listeners = new Set<() => void>();
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    // Only the new chunk is searched: a line of megabytes arrives in many chunks.
    let start = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      const part = pending + chunk.slice(start, end);
      pending = '';
      start = end + 1;
      if (part !== '') received.push(JSON.parse(part));
    }
    pending += chunk.slice(start);
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A write after kvlar has gone must not crash the test run.
  child.stdin.on('error', () => {});
  let closed = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      closed = true;
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  const transcript = () =>
    `received:\n${received.map((m) => JSON.stringify(m)).join('\n')}\nstderr:\n${stderr}`;

  const waitFor: RawProxy['waitFor'] = (done, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (done(received)) {
          finish();
          resolve();
        } else if (closed) {
          // It will not say more: fail now, with what it said.
          finish();
          reject(new Error(`kvlar exited first; ${transcript()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out; ${transcript()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const proxy: RawProxy = {
    child,
    recordFile,
    auditFile,
    received,
    send(...texts) {
      child.stdin.write(texts.map((text) => `${text}\n`).join(''));
    },
    waitFor,
    async answerTo(id, timeoutMs) {
      const find = () => received.find((message) => isObject(message) && message.id === id);
      await waitFor(() => find() !== undefined, timeoutMs);
      return find() as JsonObject;
    },
    async initialize() {
      proxy.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'init',
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'raw-client', version: '1.0.0' },
          },
        }),
        JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      );
      await proxy.answerTo('init');
    },
    closeInput() {
      child.stdin.end();
    },
    exited,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return proxy;
}

/** The URL of the admin endpoint a `--admin HOST:PORT` proxy announced on stderr. */
export async function adminUrl(proxy: RawProxy): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const match = /admin endpoint on (http:\/\/[^ \n]+)/.exec(proxy.stderr());
    if (match?.[1] !== undefined) return match[1];
    if (Date.now() > deadline) throw new Error(`no admin endpoint announced:\n${proxy.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `tools/call` request as one JSON line. */
export function toolCall(id: string | number, name: string, args: JsonObject = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  });
}

/** The raw lines the server received, in order. */
export async function recordedLines(recordFile: string): Promise<string[]> {
  if (!existsSync(recordFile)) return [];
  return lines(await readFile(recordFile, 'utf8'));
}

/** The `tools/call` requests the server received, parsed. */
export async function recordedCalls(recordFile: string): Promise<JsonObject[]> {
  const calls: JsonObject[] = [];
  for (const line of await recordedLines(recordFile)) {
    const value: unknown = JSON.parse(line);
    for (const message of Array.isArray(value) ? value : [value]) {
      if (isObject(message) && message.method === 'tools/call') calls.push(message);
    }
  }
  return calls;
}

/** The audit records in a JSONL file (none if it does not exist). */
export async function auditRecords(auditFile: string): Promise<JsonObject[]> {
  if (!existsSync(auditFile)) return [];
  return lines(await readFile(auditFile, 'utf8')).map((line) => JSON.parse(line) as JsonObject);
}

/** The pid the recording server wrote when it started. */
export async function serverPid(recordFile: string): Promise<number> {
  return Number(await readFile(`${recordFile}.pid`, 'utf8'));
}

/** Whether a process with this pid still runs (a zombie no init has reaped yet does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: the state follows the parenthesised command name in /proc/PID/stat.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** Polls until `pid` is gone; false if it is still there after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !isAlive(pid);
}

/** The text of a tool result's first content block. */
export function resultText(answer: JsonObject): string {
  const result = answer.result as { content?: { text?: string }[] } | undefined;
  return result?.content?.[0]?.text ?? '';
}

/**
 * For a test file: `start` runs `kvlar proxy` and initializes it, `launch` only runs it (for a
 * proxy expected to refuse to start); either is killed after each test.
 */
export function proxiesPerTest(): {
  start(options?: RawProxyOptions): Promise<RawProxy>;
  launch(options?: RawProxyOptions): Promise<RawProxy>;
} {
  const running: RawProxy[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((proxy) => proxy.kill()));
  });
  const launch = async (options: RawProxyOptions = {}) => {
    const proxy = await startRawProxy(options);
    running.push(proxy);
    return proxy;
  };
  return {
    launch,
    async start(options: RawProxyOptions = {}) {
      const proxy = await launch(options);
      await proxy.initialize();
      return proxy;
    },
  };
}
