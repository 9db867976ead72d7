/**
 * `kvlar proxy --listen`: real sockets on 127.0.0.1 and real processes. Each TCP client is a
 * session of its own (ids, agent, audit session, failure) with an upstream of its own: a
 * connection to `--upstream`, or a server process spawned from the command after `--`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { LineTransport } from '@kvlar/proxy';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, kvlar, lines, tempDir } from './helpers.js';
import {
  auditRecords,
  isAlive,
  isObject,
  type JsonObject,
  RECORDING_POLICY,
  resultText,
  toolCall,
  waitUntilGone,
} from './proxy-helpers.js';

const PER_PROCESS_SERVER = fileURLToPath(
  new URL('./fixtures/proxy/per-process-recording-server.mjs', import.meta.url),
);
const EVERYTHING = fileURLToPath(
  new URL('../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
const ALLOW_ALL = `name: allow-all
version: "1"
rules:
  - id: allow-all
    match_on: {}
    effect: { type: allow }
`;

/** Polls `condition` every 10 ms; on timeout the error says what was awaited and what was seen. */
async function until(
  condition: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ── kvlar ────────────────────────────────────────────────────────────────────────────────────

interface TcpKvlar {
  readonly child: ChildProcess;
  /** The port it listens on, read from its `listening on` line. */
  readonly port: number;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

const kvlars: TcpKvlar[] = [];

/** `kvlar proxy --listen 127.0.0.1:0 ...args`, once it says where it listens. */
async function startKvlar(args: readonly string[], cwd: string): Promise<TcpKvlar> {
  const child = spawn(process.execPath, [BIN, 'proxy', '--listen', '127.0.0.1:0', ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const listening = () => /kvlar proxy listening on 127\.0\.0\.1:(\d+) → /.exec(stderr);
  const proxy: TcpKvlar = {
    child,
    get port() {
      return Number(listening()?.[1]);
    },
    stderr: () => stderr,
    exited,
    running: () => !done,
  };
  kvlars.push(proxy);
  await until(
    () => listening() !== null || done,
    () => `kvlar to listen; stderr:\n${stderr}`,
  );
  if (listening() === null) throw new Error(`kvlar exited; stderr:\n${stderr}`);
  // stdout belongs to JSON-RPC, and in TCP mode there is none.
  expect(stdout).toBe('');
  return proxy;
}

// ── a raw TCP client ─────────────────────────────────────────────────────────────────────────

interface LineClient {
  readonly socket: Socket;
  /** Every line received so far, parsed. */
  readonly received: JsonObject[];
  /** Writes each text as one line. */
  send(...texts: string[]): void;
  /** The first answer with this id. */
  answerTo(id: string | number | null): Promise<JsonObject>;
  /** `initialize` (id 1) with this clientInfo name, then `notifications/initialized`. */
  initialize(name: string): Promise<JsonObject>;
  /** Whether the socket has closed; `closed` resolves then. */
  isClosed(): boolean;
  readonly closed: Promise<void>;
}

const clients: LineClient[] = [];

async function connectClient(port: number): Promise<LineClient> {
  const socket = createConnection(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  // A reset from kvlar ends the socket like a close does; the tests look at `closed`.
  socket.on('error', () => {});
  const received: JsonObject[] = [];
  let pending = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) if (part !== '') received.push(JSON.parse(part) as JsonObject);
  });
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  const client: LineClient = {
    socket,
    received,
    send(...texts) {
      socket.write(texts.map((text) => `${text}\n`).join(''));
    },
    async answerTo(id) {
      const find = () => received.find((message) => message.id === id);
      await until(
        () => find() !== undefined,
        () => `an answer to ${JSON.stringify(id)}; received:\n${JSON.stringify(received)}`,
      );
      return find() as JsonObject;
    },
    async initialize(name) {
      client.send(
        request(1, 'initialize', {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name, version: '1.0.0' },
        }),
      );
      const answer = await client.answerTo(1);
      client.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
      return answer;
    },
    isClosed: () => isClosed,
    closed,
  };
  clients.push(client);
  return client;
}

function request(id: string | number, method: string, params?: JsonObject): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
}

/** The ids of every message a client received, sorted: each session answers concurrently. */
function idsOf(client: LineClient): unknown[] {
  return client.received.map((message) => message.id).sort((a, b) => Number(a) - Number(b));
}

/** What the echo server (or the recording server) said it was called with. */
function echoed(answer: JsonObject): JsonObject {
  expect(answer).toHaveProperty('result');
  return JSON.parse(resultText(answer)) as JsonObject;
}

function expectBlocked(answer: JsonObject): void {
  expect(answer.result).toMatchObject({ isError: true });
  expect(resultText(answer)).toMatch(/^\[BLOCKED BY KVLAR\]/);
}

// ── a TCP MCP server ─────────────────────────────────────────────────────────────────────────

interface EchoConnection {
  /** 0, 1, 2… in the order the connections came. */
  readonly index: number;
  /** Every message received on this connection, parsed (lines that are not JSON as strings). */
  readonly received: unknown[];
  /** Whether kvlar has ended this connection. */
  ended: boolean;
}

interface EchoServer {
  readonly port: number;
  readonly connections: EchoConnection[];
  /** The connection whose `initialize` named this client. */
  connectionOf(clientName: string): EchoConnection | undefined;
  close(): Promise<void>;
}

const echoServers: EchoServer[] = [];

/**
 * A plain `net` MCP server speaking newline-delimited JSON-RPC: initialize, ping, tools/list
 * (safe, rm, slow), and tools/call echoing `{connection, name, arguments}` (`slow` after
 * `arguments.ms`). It keeps what each connection received.
 */
async function startEchoServer(port = 0): Promise<EchoServer> {
  const connections: EchoConnection[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const connection: EchoConnection = { index: connections.length, received: [], ended: false };
    connections.push(connection);
    const write = (value: unknown) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
    };
    const answer = (message: JsonObject) => {
      const { id, method } = message;
      const params = isObject(message.params) ? message.params : {};
      if (method === 'initialize') {
        write({
          jsonrpc: '2.0',
          id,
          result: {
            protocolVersion: params.protocolVersion ?? '2025-06-18',
            capabilities: { tools: {} },
            serverInfo: { name: 'tcp-echo-server', version: '1.0.0' },
          },
        });
      } else if (method === 'ping') {
        write({ jsonrpc: '2.0', id, result: {} });
      } else if (method === 'tools/list') {
        const tools = ['safe', 'rm', 'slow'].map((name) => ({
          name,
          inputSchema: { type: 'object' },
        }));
        write({ jsonrpc: '2.0', id, result: { tools } });
      } else if (method === 'tools/call') {
        const args = isObject(params.arguments) ? params.arguments : {};
        const text = JSON.stringify({
          connection: connection.index,
          name: params.name,
          arguments: args,
        });
        const reply = { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } };
        if (params.name === 'slow') setTimeout(() => write(reply), Number(args.ms ?? 100));
        else write(reply);
      } else {
        write({ jsonrpc: '2.0', id, error: { code: -32601, message: `no method ${method}` } });
      }
    };
    let pending = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        let message: unknown;
        try {
          message = JSON.parse(part);
        } catch {
          connection.received.push(part);
          continue;
        }
        connection.received.push(message);
        if (isObject(message) && typeof message.method === 'string' && 'id' in message) {
          answer(message);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('end', () => {
      connection.ended = true;
      socket.end();
    });
    socket.on('close', () => {
      connection.ended = true;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const echo: EchoServer = {
    port: typeof address === 'object' && address !== null ? address.port : port,
    connections,
    connectionOf: (clientName) =>
      connections.find((connection) =>
        connection.received.some(
          (message) =>
            isObject(message) &&
            message.method === 'initialize' &&
            isObject(message.params) &&
            isObject(message.params.clientInfo) &&
            message.params.clientInfo.name === clientName,
        ),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  echoServers.push(echo);
  return echo;
}

/** The methods a connection received, in order (tools/call as `tools/call NAME`). */
function methodsOf(connection: EchoConnection | undefined): string[] {
  return (connection?.received ?? []).map((message) => {
    if (!isObject(message)) return `raw ${String(message)}`;
    if (message.method === 'tools/call' && isObject(message.params)) {
      return `tools/call ${String(message.params.name)}`;
    }
    return String(message.method);
  });
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

// ── per-process recording servers (`-- CMD`) ─────────────────────────────────────────────────

interface SpawnedServer {
  readonly pid: number;
  readonly recordFile: string;
  /** The clientInfo name of the `initialize` it received. */
  readonly clientName: string | undefined;
}

/** The recording servers kvlar has started into `dir`, each with whom it served. */
async function spawnedServers(dir: string): Promise<SpawnedServer[]> {
  const names = (await readdir(dir)).filter((name) => /^server-\d+\.jsonl$/.test(name));
  const servers: SpawnedServer[] = [];
  for (const name of names) {
    const recordFile = join(dir, name);
    const pid = Number(await readFile(`${recordFile}.pid`, 'utf8'));
    const received = lines(await readFile(recordFile, 'utf8')).map((line) => JSON.parse(line));
    const initialize = received.find((message) => message.method === 'initialize');
    servers.push({ pid, recordFile, clientName: initialize?.params?.clientInfo?.name });
  }
  return servers;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.destroy();
  for (const proxy of kvlars.splice(0)) if (proxy.running()) proxy.child.kill('SIGKILL');
  await Promise.all(echoServers.splice(0).map((echo) => echo.close()));
});

describe('kvlar proxy --listen --upstream HOST:PORT', () => {
  it('keeps two concurrent clients with the same ids apart: answers, upstream connections, audit', async () => {
    const echo = await startEchoServer();
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const auditFile = join(dir, 'audit.jsonl');
    const proxy = await startKvlar(
      ['--policy', 'policy.yaml', '--audit', auditFile, '--upstream', `127.0.0.1:${echo.port}`],
      dir,
    );
    const [alice, bob] = await Promise.all([connectClient(proxy.port), connectClient(proxy.port)]);
    const [aliceInit, bobInit] = await Promise.all([
      alice.initialize('agent-alice'),
      bob.initialize('agent-bob'),
    ]);
    expect(aliceInit.result).toMatchObject({ serverInfo: { name: 'tcp-echo-server' } });
    expect(bobInit.result).toMatchObject({ serverInfo: { name: 'tcp-echo-server' } });

    // The same ids on both connections, written back to back.
    alice.send(request(2, 'tools/list'), toolCall(3, 'safe', { from: 'alice' }));
    bob.send(request(2, 'tools/list'), toolCall(3, 'safe', { from: 'bob' }));
    alice.send(toolCall(4, 'rm', { path: '/' }));
    bob.send(toolCall(4, 'safe', { from: 'bob', n: 4 }));

    const aliceConnection = echo.connectionOf('agent-alice');
    const bobConnection = echo.connectionOf('agent-bob');
    expect(echo.connections).toHaveLength(2);
    expect(aliceConnection).toBeDefined();
    expect(bobConnection).toBeDefined();
    expect(aliceConnection).not.toBe(bobConnection);

    for (const client of [alice, bob]) {
      const listed = await client.answerTo(2);
      // rm is always denied, so it is hidden from both.
      const tools = (listed.result as { tools: { name: string }[] }).tools;
      expect(tools.map((tool) => tool.name)).toEqual(['safe', 'slow']);
    }
    expect(echoed(await alice.answerTo(3))).toEqual({
      connection: aliceConnection?.index,
      name: 'safe',
      arguments: { from: 'alice' },
    });
    expect(echoed(await bob.answerTo(3))).toEqual({
      connection: bobConnection?.index,
      name: 'safe',
      arguments: { from: 'bob' },
    });
    expectBlocked(await alice.answerTo(4));
    expect(echoed(await bob.answerTo(4))).toEqual({
      connection: bobConnection?.index,
      name: 'safe',
      arguments: { from: 'bob', n: 4 },
    });
    // Give a misrouted or duplicated answer time to show up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const client of [alice, bob]) {
      expect(idsOf(client)).toEqual([1, 2, 3, 4]);
    }

    // The denied call never reached the server; the allowed ones did, each on its own connection.
    const handshake = ['initialize', 'notifications/initialized', 'tools/list'];
    expect(methodsOf(aliceConnection)).toEqual([...handshake, 'tools/call safe']);
    expect(methodsOf(bobConnection)).toEqual([...handshake, 'tools/call safe', 'tools/call safe']);

    const records = await auditRecords(auditFile);
    const sessions = [...new Set(records.map((record) => record.session))];
    expect(sessions).toHaveLength(2);
    const agentOf = (session: unknown) =>
      new Set(records.filter((r) => r.session === session).map((r) => r.agent_id));
    expect(sessions.map(agentOf)).toEqual(
      expect.arrayContaining([new Set(['agent-alice']), new Set(['agent-bob'])]),
    );
    const summary = records
      .map((r) => `${String(r.agent_id)} ${String(r.resource)} ${String(r.outcome)}`)
      .sort();
    expect(summary).toEqual([
      'agent-alice rm denied',
      'agent-alice safe allowed',
      'agent-bob safe allowed',
      'agent-bob safe allowed',
    ]);
    for (const record of records) expect(record.server).toBe(`127.0.0.1:${echo.port}`);
    // Two sessions appending to one hash chain leave it intact.
    const verified = await kvlar(['audit', 'verify', auditFile], { cwd: dir });
    expect(verified.code).toBe(0);
  });

  it('keeps a client that sends garbage, an oversized line and then resets from disturbing another', async () => {
    const echo = await startEchoServer();
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startKvlar(
      [
        '--policy',
        'policy.yaml',
        '--max-message-bytes',
        '4096',
        '--upstream',
        `127.0.0.1:${echo.port}`,
      ],
      dir,
    );
    const [steady, rowdy] = await Promise.all([
      connectClient(proxy.port),
      connectClient(proxy.port),
    ]);
    await Promise.all([steady.initialize('steady'), rowdy.initialize('rowdy')]);

    // The steady client keeps calls in flight while the other misbehaves.
    steady.send(toolCall(2, 'slow', { ms: 300, step: 2 }));
    for (let id = 3; id < 8; id++) steady.send(toolCall(id, 'safe', { step: id }));

    rowdy.send('hello kvlar');
    expect((await rowdy.answerTo(null)).error).toMatchObject({ code: -32700 });
    rowdy.send(toolCall(2, 'safe', { pad: 'x'.repeat(5000) }));
    const refused = await rowdy.answerTo(2);
    expect(refused.error).toMatchObject({ code: -32600, message: expect.stringMatching(/4096/) });
    // Half a line, then a reset (RST), not a clean close.
    rowdy.socket.write(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"sa`);
    rowdy.socket.resetAndDestroy();

    const rowdyConnection = echo.connectionOf('rowdy');
    await until(
      () => rowdyConnection?.ended === true,
      () => 'kvlar to end the rowdy session upstream',
    );
    expect(methodsOf(rowdyConnection)).toEqual(['initialize', 'notifications/initialized']);

    for (let id = 8; id < 12; id++) steady.send(toolCall(id, 'safe', { step: id }));
    const steadyConnection = echo.connectionOf('steady');
    for (let id = 2; id < 12; id++) {
      expect(echoed(await steady.answerTo(id))).toMatchObject({
        connection: steadyConnection?.index,
        arguments: { step: id },
      });
    }
    expect(idsOf(steady)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(steadyConnection?.ended).toBe(false);
    expect(steady.isClosed()).toBe(false);
    expect(proxy.running()).toBe(true);
    expect(proxy.stderr()).toMatch(/unreadable message from the client/);
  });

  it('closes a client whose upstream is unreachable, reports it, and serves the next one', async () => {
    const port = await closedPort();
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startKvlar(
      ['--policy', 'policy.yaml', '--upstream', `127.0.0.1:${port}`],
      dir,
    );
    const early = await connectClient(proxy.port);
    await early.closed;
    expect(early.received).toEqual([]);
    await until(
      () => proxy.stderr().includes(`cannot reach the upstream 127.0.0.1:${port}`),
      () => `the report on stderr; stderr:\n${proxy.stderr()}`,
    );
    expect(proxy.running()).toBe(true);

    const echo = await startEchoServer(port);
    const late = await connectClient(proxy.port);
    await late.initialize('late');
    late.send(toolCall(2, 'safe', { late: true }));
    expect(echoed(await late.answerTo(2))).toMatchObject({ arguments: { late: true } });
    expect(echo.connections).toHaveLength(1);
  });

  it('serves the SDK Client over TCP through LineTransport', async () => {
    const dir = await tempDir({ 'allow-all.yaml': ALLOW_ALL });
    const auditFile = join(dir, 'audit.jsonl');
    const proxy = await startKvlar(
      [
        '--policy',
        'allow-all.yaml',
        '--audit',
        auditFile,
        '--',
        process.execPath,
        EVERYTHING,
        'stdio',
      ],
      dir,
    );
    const sdkClient = async (name: string): Promise<Client> => {
      const socket = createConnection(proxy.port, '127.0.0.1');
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      const client = new Client({ name, version: '1.0.0' });
      await client.connect(new LineTransport(socket, socket, { label: 'kvlar' }));
      return client;
    };
    const [first, second] = await Promise.all([sdkClient('sdk-one'), sdkClient('sdk-two')]);
    try {
      for (const client of [first, second]) {
        expect(client.getServerVersion()?.name).toMatch(/everything/i);
        const tools = await client.listTools();
        expect(tools.tools.map((tool) => tool.name)).toEqual(
          expect.arrayContaining(['echo', 'get-sum']),
        );
      }
      const [echo, sum] = await Promise.all([
        first.callTool({ name: 'echo', arguments: { message: 'hello over tcp' } }),
        second.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }),
      ]);
      expect(JSON.stringify(echo)).toContain('hello over tcp');
      expect(JSON.stringify(sum)).toContain('42');
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    const records = await auditRecords(auditFile);
    expect(records.map((r) => `${String(r.agent_id)} ${String(r.resource)}`).sort()).toEqual([
      'sdk-one echo',
      'sdk-two get-sum',
    ]);
    expect(new Set(records.map((r) => r.session)).size).toBe(2);
  });
});

describe('kvlar proxy --listen -- CMD', () => {
  async function startPerConnection(dir: string): Promise<TcpKvlar> {
    return startKvlar(
      ['--policy', 'policy.yaml', '--', process.execPath, PER_PROCESS_SERVER, dir],
      dir,
    );
  }

  it('spawns one server per connection and stops only the one whose client left', async () => {
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startPerConnection(dir);
    const [alice, bob] = await Promise.all([connectClient(proxy.port), connectClient(proxy.port)]);
    await Promise.all([alice.initialize('agent-alice'), bob.initialize('agent-bob')]);
    alice.send(toolCall(2, 'safe', { from: 'alice' }));
    bob.send(toolCall(2, 'safe', { from: 'bob' }));
    expect(echoed(await alice.answerTo(2))).toEqual({ name: 'safe', arguments: { from: 'alice' } });
    expect(echoed(await bob.answerTo(2))).toEqual({ name: 'safe', arguments: { from: 'bob' } });

    const servers = await spawnedServers(dir);
    expect(servers.map((server) => server.clientName).sort()).toEqual(['agent-alice', 'agent-bob']);
    const aliceServer = servers.find((server) => server.clientName === 'agent-alice');
    const bobServer = servers.find((server) => server.clientName === 'agent-bob');
    expect(aliceServer?.pid).not.toBe(bobServer?.pid);
    expect(isAlive(aliceServer?.pid ?? 0)).toBe(true);
    expect(isAlive(bobServer?.pid ?? 0)).toBe(true);

    alice.socket.end();
    await alice.closed;
    expect(await waitUntilGone(aliceServer?.pid ?? 0)).toBe(true);

    bob.send(toolCall(3, 'safe', { from: 'bob', after: 'alice left' }));
    expect(echoed(await bob.answerTo(3))).toEqual({
      name: 'safe',
      arguments: { from: 'bob', after: 'alice left' },
    });
    expect(isAlive(bobServer?.pid ?? 0)).toBe(true);
    expect(await spawnedServers(dir)).toHaveLength(2);
  });

  it('stops on SIGTERM with two clients connected: exit 0, sockets ended, servers gone', async () => {
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startPerConnection(dir);
    const [alice, bob] = await Promise.all([connectClient(proxy.port), connectClient(proxy.port)]);
    await Promise.all([alice.initialize('agent-alice'), bob.initialize('agent-bob')]);
    // A call still in flight when the signal comes.
    alice.send(toolCall(2, 'slow', { ms: 30_000 }));
    const servers = await spawnedServers(dir);
    expect(servers).toHaveLength(2);
    const aliceServer = servers.find((server) => server.clientName === 'agent-alice');
    let seen = '';
    await until(
      async () => {
        seen = await readFile(aliceServer?.recordFile ?? '', 'utf8');
        return seen.includes('"slow"');
      },
      () => `the slow call to reach the server; it saw:\n${seen}`,
    );
    proxy.child.kill('SIGTERM');
    expect(await proxy.exited).toEqual({ code: 0, signal: null });
    await Promise.all([alice.closed, bob.closed]);
    const answer = await alice.answerTo(2);
    expect(answer.error).toMatchObject({ message: expect.stringMatching(/shutting down/) });
    for (const server of servers) expect(await waitUntilGone(server.pid)).toBe(true);
  });
});

describe('kvlar proxy --listen: known faults', () => {
  /**
   * A listener that accepts nothing: its event loop is blocked, so once its backlog is full the
   * kernel drops further handshakes and a connect to it hangs. It stands for a slow upstream.
   */
  const BLACK_HOLE = `
    const { createServer } = require('node:net');
    const { writeFileSync } = require('node:fs');
    const server = createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      writeFileSync(process.argv[1], String(server.address().port));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60000);
    });`;
  let blackHole: ChildProcess | undefined;
  let blackHolePort = 0;
  let hanging = false;
  const fillers: Socket[] = [];

  beforeAll(async () => {
    const dir = await tempDir();
    const portFile = join(dir, 'port');
    blackHole = spawn(process.execPath, ['-e', BLACK_HOLE, portFile], { stdio: 'ignore' });
    await until(
      async () => (await readFile(portFile, 'utf8').catch(() => '')) !== '',
      () => 'the black hole to listen',
    );
    blackHolePort = Number(await readFile(portFile, 'utf8'));
    // Fill the backlog until a connect hangs.
    for (let attempt = 0; attempt < 8 && !hanging; attempt++) {
      const socket = createConnection(blackHolePort, '127.0.0.1');
      socket.on('error', () => {});
      fillers.push(socket);
      const connected = new Promise<boolean>((resolve) =>
        socket.once('connect', () => resolve(true)),
      );
      hanging = !(await Promise.race([connected, delay(300).then(() => false)]));
    }
  });

  afterAll(() => {
    for (const socket of fillers.splice(0)) socket.destroy();
    blackHole?.kill('SIGKILL');
  });

  it('has an upstream whose connects hang (the setup the next test needs)', () => {
    expect(hanging).toBe(true);
  });

  // Product bug: tcp.ts awaits the upstream connect before the client socket has an 'error'
  // listener, so a client reset in that window is an uncaught ECONNRESET that kills every session.
  it('survives a client that resets while its upstream is still connecting', async () => {
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startKvlar(
      ['--policy', 'policy.yaml', '--upstream', `127.0.0.1:${blackHolePort}`],
      dir,
    );
    const client = await connectClient(proxy.port);
    client.send(request(1, 'ping'));
    await delay(200);
    client.socket.resetAndDestroy();
    await delay(500);
    expect(proxy.stderr()).not.toMatch(/Unhandled 'error' event/);
    expect(proxy.running()).toBe(true);
  });

  // Product bug: on SIGTERM tcp.ts ends each client socket and then waits in server.close() for
  // the client to close its side; a client that keeps it open (half-open, or not reading) keeps
  // kvlar running forever, after its servers are already stopped.
  it('exits on SIGTERM even when a client keeps its side of the connection open', async () => {
    const dir = await tempDir({ 'policy.yaml': RECORDING_POLICY });
    const proxy = await startKvlar(
      ['--policy', 'policy.yaml', '--', process.execPath, PER_PROCESS_SERVER, dir],
      dir,
    );
    const socket = createConnection({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    fillers.push(socket);
    socket.resume();
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`${request(1, 'ping')}\n`);
    await until(
      async () => (await spawnedServers(dir)).length === 1,
      () => 'the server for the connection',
    );
    proxy.child.kill('SIGTERM');
    const exit = await Promise.race([proxy.exited, delay(3000).then(() => 'still running')]);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
