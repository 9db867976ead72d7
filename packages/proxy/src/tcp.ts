/**
 * `kvlar proxy --listen HOST:PORT`: newline-delimited JSON-RPC over TCP, one isolated session per
 * client connection (its own ids, agent, audit session and failure), each with its own upstream:
 * a TCP connection to `--upstream HOST:PORT`, or a server process spawned for it.
 */
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { LAZY_RESPONSE_BYTES, LineTransport } from './line-transport.js';
import { createProxy, type ProxySession } from './proxy.js';
import { releasingOnRawWritten } from './release-reads.js';
import { type ServerCommand, spawnServer } from './server-process.js';
import type { SessionOptions } from './stdio.js';

/** A TCP address. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Options of `startTcpProxy`. */
export interface TcpProxyOptions extends Omit<SessionOptions, 'session'> {
  /** Where to listen (port 0: any free port). */
  readonly listen: HostPort;
  /** Per connection: a TCP connection to a server, or a server process spawned for it. */
  readonly upstream: { readonly address: HostPort } | { readonly server: ServerCommand };
  readonly maxMessageBytes?: number;
  readonly shutdownGraceMs?: number;
  /** Session ids, one per connection. Default `crypto.randomUUID`. */
  readonly sessions?: () => string;
  /**
   * See `LineTransportOptions.onRawWritten`: answers relayed to any client as received, after
   * their reads were released (`releaseReads`).
   */
  readonly onRawWritten?: (bytes: number) => void;
}

/** A running TCP proxy. */
export interface TcpProxy {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: HostPort;
  /** Sessions currently open. */
  readonly sessions: number;
  /** Stops listening, ends every session, stops spawned servers. */
  close(): Promise<void>;
}

/** Parses `HOST:PORT` (`[::1]:9100` for IPv6). */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '127.0.0.1' : host, port };
}

/** `kvlar proxy --listen`: one isolated proxy session per client connection. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const { listen, upstream, maxMessageBytes, shutdownGraceMs, sessions, onRawWritten, ...session } =
    options;
  const nextSession = sessions ?? randomUUID;
  const limit = maxMessageBytes === undefined ? {} : { maxMessageBytes };
  const open = new Set<{ proxy: ProxySession; stopped: Promise<void> }>();
  const sockets = new Set<Socket>();
  let stopping = false;

  const server: Server = createServer((socket) => {
    void serve(socket);
  });

  async function serve(socket: Socket): Promise<void> {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // From the first moment: a reset while the upstream is still being reached must end this
    // session only, not the process (an unhandled 'error' would).
    socket.on('error', (error) => {
      session.onReport?.({
        level: 'debug',
        code: 'client_socket_error',
        message: `client connection: ${error.message}`,
      });
    });
    socket.setNoDelay(true);
    const id = nextSession();
    // The answers relayed to the client were read from this session's own upstream.
    const written = releasingOnRawWritten(socket, onRawWritten);
    const client = new LineTransport(socket, socket, {
      label: 'client',
      ...limit,
      ...(written === undefined ? {} : { onRawWritten: written }),
    });
    let upstreamTransport: LineTransport;
    let stopUpstream: () => Promise<unknown>;
    let label: string;
    if ('address' in upstream) {
      const connection = await connect(upstream.address).catch((error: Error) => error);
      if (socket.destroyed || stopping) {
        if (!(connection instanceof Error)) connection.destroy();
        socket.destroy();
        return;
      }
      if (connection instanceof Error) {
        session.onReport?.({
          level: 'error',
          code: 'upstream_unreachable',
          message: `session ${id}: cannot reach the upstream ${format(upstream.address)}: ${connection.message}`,
        });
        socket.destroy();
        return;
      }
      connection.setNoDelay(true);
      upstreamTransport = new LineTransport(connection, connection, {
        label: 'server',
        // The message's own keys, which route and classify it: a client that kept the first of
        // two would read another message than Kvlar did (docs/adr/005).
        trackDuplicateKeys: 'envelope',
        lazyMessageBytes: LAZY_RESPONSE_BYTES,
        ...limit,
      });
      stopUpstream = () => upstreamTransport.close();
      label = format(upstream.address);
    } else {
      const spawned = spawnServer(upstream.server, limit);
      upstreamTransport = spawned.transport;
      stopUpstream = () => spawned.stop(shutdownGraceMs);
      label = spawned.label;
    }
    const proxy = createProxy({
      ...session,
      serverLabel: session.serverLabel ?? label,
      session: id,
      client,
      upstream: upstreamTransport,
    });
    const entry = {
      proxy,
      stopped: proxy.closed.then(async () => {
        await stopUpstream();
        socket.end();
      }),
    };
    open.add(entry);
    void entry.stopped.finally(() => open.delete(entry));
    await proxy.start();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const address =
    bound !== null && typeof bound === 'object' ? { host: listen.host, port: bound.port } : listen;
  return {
    address,
    get sessions() {
      return open.size;
    },
    async close() {
      stopping = true;
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled(
        [...open].map(async (entry) => {
          await entry.proxy.close();
          await entry.stopped;
        }),
      );
      // Each session ended its side; a client that keeps its own side open (or stopped reading)
      // gets a grace period, then its connection is destroyed.
      await Promise.race([closing, delay(shutdownGraceMs ?? 2000)]);
      for (const socket of sockets) socket.destroy();
      await closing;
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function connect(address: HostPort): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(address.port, address.host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function format(address: HostPort): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
