/**
 * A proxy session wired to real LineTransports over in-process streams: the test writes the
 * client's raw lines and reads exactly the bytes the server would receive, and plays the server.
 */
import { PassThrough } from 'node:stream';
import { type AuditSink, createMemorySink, type MemorySink } from '@kvlar/audit';
import { createEngine, type Engine, parsePolicy, resolvePolicy } from '@kvlar/core';
import { LineTransport } from '../src/line-transport.js';
import {
  createProxy,
  type ProxyOptions,
  type ProxyReport,
  type ProxySession,
} from '../src/proxy.js';

export function engineFrom(...yamls: string[]): Engine {
  const policies = yamls.map((yaml) => {
    const parsed = parsePolicy(yaml, { file: 'test.yaml' });
    if (!parsed.ok) throw new Error(parsed.issues.map((issue) => issue.message).join('\n'));
    const resolved = resolvePolicy(parsed.policy);
    if (!resolved.ok) throw new Error(resolved.issues.map((issue) => issue.message).join('\n'));
    return resolved.policy;
  });
  return createEngine(policies);
}

/** Lines written to a stream, parsed, with a way to wait for the next ones. */
export class LineLog {
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  #buffer = '';

  constructor(stream: PassThrough) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline = this.#buffer.indexOf('\n');
      while (newline !== -1) {
        this.lines.push(this.#buffer.slice(0, newline));
        this.#buffer = this.#buffer.slice(newline + 1);
        newline = this.#buffer.indexOf('\n');
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get messages(): unknown[] {
    return this.lines.map((line) => JSON.parse(line));
  }

  /** Resolves with the `count`-th line (1-based) once it has arrived. */
  async line(count: number, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `waited for line ${count}, have ${this.lines.length}: ${this.lines.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
    return this.lines[count - 1] as string;
  }

  async message(count: number): Promise<Record<string, unknown>> {
    return JSON.parse(await this.line(count)) as Record<string, unknown>;
  }
}

export interface Harness {
  readonly proxy: ProxySession;
  readonly audit: MemorySink;
  /** What the proxy sent to the client. */
  readonly toClient: LineLog;
  /** What the proxy sent to the server: exactly what a server process would read. */
  readonly toServer: LineLog;
  readonly reports: ProxyReport[];
  fromClient(line: string | object): void;
  fromServer(line: string | object): void;
  /** Writes `reads` to the proxy as the server, one stream write each, as they are. */
  fromServerReads(reads: readonly (string | Buffer)[]): void;
  /** Ends the client's side (EOF on the proxy's input). */
  clientEnds(): void;
  serverEnds(): void;
}

export async function harness(
  engine: Engine,
  options: Partial<Omit<ProxyOptions, 'engine' | 'client' | 'upstream'>> & {
    sink?: AuditSink;
    /** The server side's `lazyMessageBytes`. */
    lazyMessageBytes?: number;
  } = {},
): Promise<Harness> {
  const clientIn = new PassThrough();
  const clientOut = new PassThrough();
  const serverIn = new PassThrough();
  const serverOut = new PassThrough();
  const audit = createMemorySink({
    clock: () => new Date('2026-11-24T00:00:00.000Z'),
    ids: counter('event'),
  });
  const reports: ProxyReport[] = [];
  const { sink, lazyMessageBytes, ...rest } = options;
  const proxy = createProxy({
    session: 'session-1',
    clock: () => 0,
    ids: counter('approval'),
    onReport: (report) => reports.push(report),
    ...rest,
    engine,
    audit: sink ?? audit,
    client: new LineTransport(clientIn, clientOut, { label: 'client' }),
    upstream: new LineTransport(serverOut, serverIn, {
      label: 'server',
      trackDuplicateKeys: 'envelope',
      ...(lazyMessageBytes === undefined ? {} : { lazyMessageBytes }),
    }),
  });
  const toClient = new LineLog(clientOut);
  const toServer = new LineLog(serverIn);
  await proxy.start();
  const write = (stream: PassThrough) => (line: string | object) => {
    stream.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  };
  return {
    proxy,
    audit,
    toClient,
    toServer,
    reports,
    fromClient: write(clientIn),
    fromServer: write(serverOut),
    fromServerReads: (reads) => {
      for (const read of reads) serverOut.write(read);
    },
    clientEnds: () => clientIn.end(),
    serverEnds: () => serverOut.end(),
  };
}

function counter(prefix: string): () => string {
  let next = 0;
  return () => `${prefix}-${++next}`;
}

/** Lets queued work (audit writes, sends) run. */
export function settle(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function call(id: number | string, name: string, args?: unknown): Record<string, unknown> {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: args === undefined ? { name } : { name, arguments: args },
  };
}
