/**
 * `kvlar proxy --stdio -- CMD…`: the client speaks on our stdin/stdout, the server is our child.
 * stdout carries JSON-RPC only; everything for people goes through `onReport`.
 */
import type { Readable, Writable } from 'node:stream';
import { LineTransport } from './line-transport.js';
import { createProxy, type ProxyEnd, type ProxyOptions, type ProxySession } from './proxy.js';
import { releasingOnRawWritten } from './release-reads.js';
import { type ServerCommand, type ServerExit, spawnServer } from './server-process.js';

/** `createProxy`'s options without the transports, which the runners create. */
export type SessionOptions = Omit<ProxyOptions, 'client' | 'upstream'>;

/** Options of `startStdioProxy`. */
export interface StdioProxyOptions extends SessionOptions {
  /** The server to spawn. */
  readonly server: ServerCommand;
  /** Default `process.stdin`. */
  readonly input?: Readable;
  /** Default `process.stdout`. */
  readonly output?: Writable;
  /** Longer lines, from either side, are discarded and reported. */
  readonly maxMessageBytes?: number;
  /** How long the server gets to exit after its stdin closes, and again after SIGTERM. */
  readonly shutdownGraceMs?: number;
  /**
   * See `LineTransportOptions.onRawWritten`: answers relayed to the client as received. Their
   * reads are released first (`releaseReads`) when `output` is a socket, pipe or
   * `process.stdout`.
   */
  readonly onRawWritten?: (bytes: number) => void;
}

/** How a stdio session ended, and the exit code `kvlar proxy` uses. */
export interface StdioProxyResult {
  readonly end: ProxyEnd;
  readonly server: ServerExit;
  /**
   * 0 when the client ended the session (or `stop` was called); otherwise the server died under
   * the client: its exit code, 128 + signal, or 1.
   */
  readonly exitCode: number;
}

/** A running stdio proxy. */
export interface StdioProxy {
  readonly proxy: ProxySession;
  /** Ends the session as if the client had gone: held calls withdrawn, the server stopped. */
  stop(): Promise<StdioProxyResult>;
  /** Resolves when the session is over and the server has exited. */
  readonly done: Promise<StdioProxyResult>;
}

/**
 * `kvlar proxy --stdio`: spawns the server, serves the client on stdin/stdout, stops the server
 * when the client leaves and answers pending calls when the server dies.
 */
export async function startStdioProxy(options: StdioProxyOptions): Promise<StdioProxy> {
  const {
    server: command,
    input,
    output,
    maxMessageBytes,
    shutdownGraceMs,
    onRawWritten,
    ...session
  } = options;
  const limit = maxMessageBytes === undefined ? {} : { maxMessageBytes };
  const server = spawnServer(command, limit);
  const out = output ?? process.stdout;
  // The answers relayed to the client were read from the server's stdout, which is ours alone.
  const written = releasingOnRawWritten(out, onRawWritten);
  const client = new LineTransport(input ?? process.stdin, out, {
    label: 'client',
    ...limit,
    ...(written === undefined ? {} : { onRawWritten: written }),
  });
  const proxy = createProxy({
    ...session,
    serverLabel: session.serverLabel ?? server.label,
    client,
    upstream: server.transport,
  });
  void server.exited.then((exit) => {
    if (exit.error !== undefined) {
      session.onReport?.({
        level: 'error',
        code: 'server_spawn_failed',
        message: `cannot start the server '${command.command}': ${exit.error.message}`,
      });
    }
  });
  const done = (async (): Promise<StdioProxyResult> => {
    const end = await proxy.closed;
    const exit = await server.stop(shutdownGraceMs);
    await client.drain().catch(() => {});
    return { end, server: exit, exitCode: end.reason === 'upstream_closed' ? exitCodeOf(exit) : 0 };
  })();
  await proxy.start();
  return {
    proxy,
    done,
    async stop() {
      await proxy.close();
      return done;
    },
  };
}

function exitCodeOf(exit: ServerExit): number {
  if (exit.error !== undefined) return 1;
  if (exit.signal !== null) return 128 + (signalNumber(exit.signal) ?? 0);
  return exit.code === null || exit.code === 0 ? 1 : exit.code;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return SIGNALS[signal];
}
