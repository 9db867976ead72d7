/**
 * An MCP server run as a child process: its stdin and stdout carry JSON-RPC, its stderr passes
 * through to ours (servers log there), and stopping it escalates from EOF to SIGTERM to SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
// cross-spawn: on Windows, `npx`, `uvx` and other .cmd shims (what MCP configs name) need cmd.exe
// and its quoting rules; elsewhere it is plain child_process.spawn.
import spawn from 'cross-spawn';
import { LAZY_RESPONSE_BYTES, LineTransport } from './line-transport.js';

/** How to start an MCP server: a command and its arguments, as an MCP client config has them. */
export interface ServerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** How the server process ended. */
export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES…). */
  readonly error?: Error;
}

/** A started server and the transport to its stdin and stdout. */
export interface ServerProcess {
  readonly transport: LineTransport;
  readonly child: ChildProcess;
  /** Resolves once the process has exited (or failed to start). */
  readonly exited: Promise<ServerExit>;
  /** Closes its stdin, then SIGTERM after `graceMs`, then SIGKILL after as long again. */
  stop(graceMs?: number): Promise<ServerExit>;
  /** How the audit names it when no `--server-name` is given. */
  readonly label: string;
}

/** Options of `spawnServer`. */
export interface SpawnOptions {
  /** Longer lines from the server are discarded and reported. */
  readonly maxMessageBytes?: number;
  /** Where the server's stderr goes. Default: inherited (passes through to ours). */
  readonly stderr?: 'inherit' | 'ignore' | 'pipe';
}

/** Starts an MCP server process; use its `transport` as `createProxy`'s `upstream`. */
export function spawnServer(server: ServerCommand, options: SpawnOptions = {}): ServerProcess {
  const child = spawn(server.command, [...server.args], {
    stdio: ['pipe', 'pipe', options.stderr ?? 'inherit'],
    env: server.env ?? process.env,
    ...(server.cwd === undefined ? {} : { cwd: server.cwd }),
    windowsHide: true,
  });
  const exited = new Promise<ServerExit>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // stdout and stdin exist because stdio[0] and stdio[1] are pipes.
  const stdout = child.stdout as NonNullable<typeof child.stdout>;
  const stdin = child.stdin as NonNullable<typeof child.stdin>;
  const transport = new LineTransport(stdout, stdin, {
    // The message's own keys, which route and classify it: a client that kept the first of
    // two would read another message than Kvlar did (docs/adr/005).
    trackDuplicateKeys: 'envelope',
    lazyMessageBytes: LAZY_RESPONSE_BYTES,
    label: 'server',
    ...(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes }),
  });
  let stopping: Promise<ServerExit> | undefined;
  return {
    transport,
    child,
    exited,
    label: serverLabel(server),
    stop(graceMs = 2000) {
      stopping ??= stopChild(child, transport, exited, graceMs);
      return stopping;
    },
  };
}

async function stopChild(
  child: ChildProcess,
  transport: LineTransport,
  exited: Promise<ServerExit>,
  graceMs: number,
): Promise<ServerExit> {
  await transport.close();
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const exit = await Promise.race([exited, delay(graceMs)]);
    if (exit !== undefined) return exit;
    child.kill(signal);
  }
  return exited;
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

/** Launchers whose first operand, not themselves, names the server (`npx -y server-x`). */
const LAUNCHERS = new Set([
  'node',
  'npx',
  'bunx',
  'bun',
  'deno',
  'uvx',
  'uv',
  'python',
  'python3',
  'pipx',
  'docker',
  'pnpm',
  'yarn',
  'npm',
]);

/** How the audit and the approvals page name a server when no `--server-name` is given. */
export function serverLabel(server: Pick<ServerCommand, 'command' | 'args'>): string {
  const command = lastSegment(server.command).replace(/\.(?:exe|cmd|bat)$/i, '');
  if (!LAUNCHERS.has(command)) return command;
  const operand = server.args.find(
    (arg) => !arg.startsWith('-') && arg !== 'run' && arg !== 'exec' && arg !== 'x',
  );
  return operand === undefined ? command : lastSegment(operand);
}

/** The last part of a path written for this system or for Windows (configs travel). */
function lastSegment(path: string): string {
  return (
    path
      .split(/[\\/]/)
      .filter((part) => part !== '')
      .pop() ?? path
  );
}
