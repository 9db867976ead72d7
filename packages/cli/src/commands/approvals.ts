/**
 * `kvlar approvals`, `kvlar approve ID`, `kvlar deny ID`: the terminal side of the approval queue
 * that `kvlar proxy --admin` serves. The proxies are found in the run registry (or named with
 * --admin and --token); each answer carries the digest of the call as it was just listed, so it
 * applies to what the person saw and to nothing else.
 */
import { userInfo } from 'node:os';
import { visibleText } from '@kvlar/audit';
import type { PendingApproval } from '@kvlar/proxy';
import { type ArgsDef, defineCommand } from 'citty';
import { CliError, ExitCode } from '../errors.js';
import { runningProxies } from '../run-registry.js';
import { type Runtime, runtimeOf } from '../runtime.js';

/** A held call's id is a UUID; this much of it names it in practice. */
const SHORT_ID = 8;
/** As much as is shown: a flood of held calls cannot make a typed prefix name another call. */
const MIN_PREFIX = 8;
const REQUEST_TIMEOUT_MS = 5000;

const NO_PROXY =
  'no kvlar proxy with an admin endpoint is running (start one with --admin 127.0.0.1:0)';

const endpointArgs = {
  admin: {
    type: 'string',
    valueHint: 'url',
    description: 'Ask only the proxy whose admin endpoint is here (with its token) instead of all',
  },
  token: {
    type: 'string',
    valueHint: 'token',
    description:
      'The bearer token of the proxy given with --admin; other users can read it in ps: prefer $KVLAR_ADMIN_TOKEN',
  },
} as const satisfies ArgsDef;

export const approvalsCommand = defineCommand({
  meta: {
    name: 'approvals',
    description: 'List the tool calls that running proxies hold for approval',
  },
  args: {
    ...endpointArgs,
    json: { type: 'boolean', description: 'Print the held calls as JSON on stdout' },
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const held = await listAll(runtime, await endpoints(runtime, args));
    if (args.json === true) {
      runtime.printJson({
        approvals: held.map(({ call, proxy }) => ({
          ...call,
          proxy_pid: proxy.pid ?? null,
          proxy_url: proxy.url,
        })),
      });
    } else {
      printHeld(runtime, held);
    }
    return ExitCode.ok;
  },
});

const answerArgs = {
  id: {
    type: 'positional',
    required: true,
    valueHint: 'id',
    description: `The held call's id, or a unique prefix of it (at least ${MIN_PREFIX} characters)`,
  },
  reason: { type: 'string', valueHint: 'text', description: 'Why; the agent and the audit see it' },
  json: { type: 'boolean', description: 'Print the answered call as JSON on stdout' },
  ...endpointArgs,
} as const satisfies ArgsDef;

export const approveCommand = defineCommand({
  meta: { name: 'approve', description: 'Approve a held tool call: the proxy forwards it' },
  args: answerArgs,
  run: (context) => answer(runtimeOf(context), context.args, true),
});

export const denyCommand = defineCommand({
  meta: { name: 'deny', description: 'Deny a held tool call: the agent is told why' },
  args: answerArgs,
  run: (context) => answer(runtimeOf(context), context.args, false),
});

/** A proxy's admin endpoint; `pid` is unknown when it was named on the command line. */
interface Endpoint {
  readonly pid: number | undefined;
  readonly url: string;
  readonly token: string;
  readonly server: string;
}

interface Held {
  readonly call: PendingApproval;
  readonly proxy: Endpoint;
}

async function endpoints(
  runtime: Runtime,
  args: { admin?: string | undefined; token?: string | undefined },
  command = 'kvlar approvals',
): Promise<Endpoint[]> {
  // A command line is readable by every local user (/proc/PID/cmdline, ps); the environment only
  // by the process's owner: the token is taken from there when --token is not given.
  const fromEnv = runtime.env.KVLAR_ADMIN_TOKEN;
  const token = args.token ?? (args.admin !== undefined && fromEnv !== '' ? fromEnv : undefined);
  if ((args.admin === undefined) !== (token === undefined)) {
    throw new CliError(
      'usage',
      '--admin and --token go together (the token may come from $KVLAR_ADMIN_TOKEN instead): give both or neither',
      { command },
    );
  }
  if (args.admin !== undefined && token !== undefined) {
    return [{ pid: undefined, url: adminUrl(args.admin, command), token, server: '' }];
  }
  const proxies = await runningProxies(runtime.env).catch((error: unknown) => {
    throw new CliError('invalid_input', messageOf(error));
  });
  if (proxies.length === 0) throw new CliError('invalid_input', NO_PROXY);
  return proxies;
}

/** `http://127.0.0.1:41234`, with or without a trailing slash; a bare `host:port` too. */
function adminUrl(text: string, command: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new CliError('usage', `--admin is not a URL: '${text}'`, { command });
  }
  if (url.protocol !== 'http:' || url.search !== '' || url.hash !== '') {
    throw new CliError('usage', `--admin must be http://HOST:PORT, not '${text}'`, { command });
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * Every held call of every endpoint, oldest first per proxy. A registered proxy that does not
 * answer is a warning (the others still count); the one named with --admin is an error.
 */
async function listAll(runtime: Runtime, proxies: readonly Endpoint[]): Promise<Held[]> {
  const lists = await Promise.all(
    proxies.map(async (proxy) => {
      try {
        return (await listOne(proxy)).map((call) => ({ call, proxy }));
      } catch (error) {
        const message = `${proxyName(proxy)} did not answer: ${messageOf(error)}`;
        // The one proxy named on the command line: its silence is the answer's failure.
        if (proxy.pid === undefined) throw new CliError('invalid_input', message);
        runtime.logger.warn(`warning: ${message}`);
        return [];
      }
    }),
  );
  return lists.flat();
}

async function listOne(proxy: Endpoint): Promise<PendingApproval[]> {
  const response = await fetch(`${proxy.url}/approvals`, {
    headers: { authorization: `Bearer ${proxy.token}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(await statusText(response));
  const body: unknown = await response.json();
  const approvals = isObject(body) ? body.approvals : undefined;
  if (!Array.isArray(approvals) || !approvals.every(isPendingApproval)) {
    throw new Error('its answer is not a list of approvals');
  }
  return approvals;
}

async function answer(
  runtime: Runtime,
  args: {
    id: string;
    reason?: string | undefined;
    json?: boolean | undefined;
    admin?: string | undefined;
    token?: string | undefined;
  },
  approved: boolean,
): Promise<number> {
  const verb = approved ? 'approve' : 'deny';
  const command = `kvlar ${verb}`;
  if (args.id.length < MIN_PREFIX) {
    throw new CliError(
      'usage',
      `'${args.id}' is too short: give at least ${MIN_PREFIX} characters of the id`,
      { command },
    );
  }
  const held = await listAll(runtime, await endpoints(runtime, args, command));
  const { call, proxy } = pick(held, args.id);
  const response = await fetch(`${proxy.url}/approvals/${encodeURIComponent(call.id)}/${verb}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${proxy.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      digest: call.digest,
      approver: `cli:${username(runtime)}`,
      channel: 'cli',
      ...(args.reason === undefined ? {} : { reason: args.reason }),
    }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new CliError('invalid_input', `${proxyName(proxy)} did not answer: ${messageOf(error)}`);
  });
  const name = `${visibleText(call.tool)} (${call.id.slice(0, SHORT_ID)})`;
  if (response.status === 404) {
    throw new CliError(
      'invalid_input',
      `${name} is no longer waiting: it was answered, withdrawn or timed out`,
    );
  }
  if (response.status === 409) {
    throw new CliError(
      'invalid_input',
      `${name} is not the call that was listed (digest mismatch); nothing was ${approved ? 'approved' : 'denied'}`,
    );
  }
  if (!response.ok) {
    throw new CliError(
      'invalid_input',
      `${proxyName(proxy)} refused: ${await statusText(response)}`,
    );
  }
  if (args.json === true) {
    runtime.printJson({
      id: call.id,
      tool: call.tool,
      decision: approved ? 'approved' : 'denied',
      ...(args.reason === undefined ? {} : { reason: args.reason }),
      ...(proxy.pid === undefined ? {} : { pid: proxy.pid }),
    });
    return ExitCode.ok;
  }
  const paint = runtime.colors.stdout;
  runtime.print(
    approved ? `${paint.green('✓')} approved ${name}` : `${paint.red('✗')} denied ${name}`,
  );
  return ExitCode.ok;
}

/** The held call `id` names: the one with exactly this id, else the only one it is a prefix of. */
function pick(held: readonly Held[], id: string): Held {
  const exact = held.find(({ call }) => call.id === id);
  if (exact !== undefined) return exact;
  const matches = held.filter(({ call }) => call.id.startsWith(id));
  const [only] = matches;
  if (only !== undefined && matches.length === 1) return only;
  if (matches.length === 0) {
    throw new CliError(
      'invalid_input',
      `no held call matches '${visibleText(id)}' (kvlar approvals lists them)`,
    );
  }
  const names = matches.map(({ call }) => `${call.id} (${visibleText(call.tool)})`).join(', ');
  throw new CliError(
    'invalid_input',
    `'${visibleText(id)}' matches ${matches.length} held calls: ${names}; give more of the id`,
  );
}

function printHeld(runtime: Runtime, held: readonly Held[]): void {
  if (held.length === 0) {
    runtime.print('No calls are waiting for approval.');
    return;
  }
  const paint = runtime.colors.stdout;
  const count = held.length === 1 ? '1 call is' : `${held.length} calls are`;
  runtime.print(`${count} waiting for approval (answer with kvlar approve ID / kvlar deny ID):`);
  for (const { call, proxy } of held) {
    const server = call.server !== '' ? call.server : proxy.server;
    const rows: [string, string][] = [
      ['server', server === '' ? '-' : visibleText(server)],
      ['agent', visibleText(call.agent_id)],
      ['rule', visibleText(call.rule_id)],
      ['waiting', `${Math.round(call.age_ms / 1000)} s`],
      ['reason', visibleText(call.reason)],
      ['digest', call.digest.slice(0, 12)],
      // Whole, however long: `kvlar approve` answers for the whole call, so the whole call is shown.
      ['arguments', visibleText(JSON.stringify(call.arguments) ?? 'null')],
    ];
    runtime.print('');
    runtime.print(
      `${paint.yellow('⚠')} ${paint.bold(call.id.slice(0, SHORT_ID))}  ${visibleText(call.tool)}`,
    );
    for (const [label, value] of rows) runtime.print(`    ${`${label}:`.padEnd(11)}${value}`);
  }
}

function proxyName(proxy: Endpoint): string {
  return proxy.pid === undefined
    ? `the proxy at ${proxy.url}`
    : `the proxy ${proxy.pid} (${proxy.url})`;
}

async function statusText(response: Response): Promise<string> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = isObject(body) && typeof body.error === 'string' ? body.error : undefined;
  const why = response.status === 401 ? 'the token was refused' : error;
  return `HTTP ${response.status}${why === undefined ? '' : `: ${why}`}`;
}

function username(runtime: Runtime): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (a container running as an arbitrary uid).
    return runtime.env.USER ?? runtime.env.LOGNAME ?? 'unknown';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPendingApproval(value: unknown): value is PendingApproval {
  return (
    isObject(value) &&
    ['id', 'digest', 'action_type', 'tool', 'agent_id', 'server', 'rule_id', 'reason'].every(
      (key) => typeof value[key] === 'string',
    ) &&
    typeof value.age_ms === 'number'
  );
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch's own message is `fetch failed`; the reason is in its cause.
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code === undefined || cause.message.includes(code)
      ? cause.message
      : `${cause.message} (${code})`;
  }
  if (error.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return error.message;
}
