import { readFileSync } from 'node:fs';
import {
  type AuditSink,
  createJsonlSink,
  createRedactor,
  createStderrSink,
  DEFAULT_REDACTED_KEYS,
  DEFAULT_SECRET_PATTERNS,
  type Redactor,
} from '@kvlar/audit';
import {
  type AdminServer,
  type Approver,
  combineApprovers,
  createApprovalQueue,
  createMetrics,
  createWebhookApprover,
  type HostPort,
  isLoopback,
  type PolicyWatcher,
  type ProxyReport,
  parseHostPort,
  policyInfo,
  type SessionOptions,
  serverLabel,
  startAdminServer,
  startStdioProxy,
  startTcpProxy,
  watchPolicies,
} from '@kvlar/proxy';
import { defineCommand } from 'citty';
import { newAdminToken } from '../admin-token.js';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom } from '../paths.js';
import { loadPolicySet, reloadPolicySet } from '../policy-set.js';
import { parseRustProxyConfig, type RustProxyConfig } from '../proxy-config.js';
import { createRelayCollector } from '../relay-memory.js';
import { reportIssues } from '../report.js';
import { announceProxy } from '../run-registry.js';
import { type Runtime, runtimeOf } from '../runtime.js';
import { VERSION } from '../version.js';

/** The Rust version's defaults for TCP mode. */
const RUST_LISTEN = '127.0.0.1:9100';
const RUST_UPSTREAM = '127.0.0.1:3000';

export const proxyCommand = defineCommand({
  meta: {
    name: 'proxy',
    description:
      'Run an MCP server behind Kvlar: every tool call is checked, audited, then forwarded',
  },
  args: {
    stdio: {
      type: 'boolean',
      description: 'Speak JSON-RPC on stdin/stdout; run the server given after --',
    },
    policy: {
      type: 'string',
      alias: 'p',
      valueHint: 'file',
      description: 'A policy file (repeat for several, evaluated in order)',
    },
    listen: {
      type: 'string',
      valueHint: 'host:port',
      description: 'Accept MCP clients over TCP here',
    },
    upstream: {
      type: 'string',
      valueHint: 'host:port',
      description:
        'With --listen: the MCP server to connect each client to (else the command after --)',
    },
    config: {
      type: 'string',
      alias: 'c',
      valueHint: 'file',
      description: 'A Rust Kvlar proxy config (YAML)',
    },
    'agent-id': {
      type: 'string',
      valueHint: 'id',
      description: "Pin the agent id (default: the client's clientInfo.name)",
    },
    'server-name': {
      type: 'string',
      valueHint: 'name',
      description: "The server's name, for match_on.servers and the audit",
    },
    mode: {
      type: 'string',
      valueHint: 'enforce|audit',
      description: 'audit: decide and record but forward everything (shadow mode); default enforce',
    },
    strict: {
      type: 'boolean',
      description:
        'Decide every kind of request (resources, prompts, sampling…), not only those the policy names',
    },
    'no-filter-tools': {
      type: 'boolean',
      description: 'Keep tools the policy always denies in tools/list answers',
    },
    audit: {
      type: 'string',
      valueHint: 'file',
      description: 'Append the hash-chained audit log (JSONL) here',
    },
    'audit-max-bytes': {
      type: 'string',
      valueHint: 'bytes',
      description: 'Rotate the audit log before a record would take it past this size',
    },
    'audit-rotate-daily': {
      type: 'boolean',
      description: 'Rotate the audit log at the first record of each UTC day',
    },
    'audit-sync': {
      type: 'string',
      valueHint: 'background|always',
      description:
        'background: each record in the kernel before its call goes on, flushed to disk behind (default); always: on disk first',
    },
    'audit-torn-line': {
      type: 'string',
      valueHint: 'refuse|rotate',
      description:
        'A log ending in a torn line (a crash mid-write): refuse to start (default) or move it aside',
    },
    'redact-key': {
      type: 'string',
      valueHint: 'name',
      description:
        'Also redact arguments named like this in the audit (repeatable; adds to the defaults)',
    },
    'redact-value': {
      type: 'string',
      valueHint: 'kind=regex',
      description:
        'Also redact text matching this regex (policy regex syntax; a (?P<secret>…) group limits it) as [REDACTED:kind] (repeatable)',
    },
    'audit-results': {
      type: 'boolean',
      description:
        'Also record what became of each forwarded call (ok or its error, how long), linked to its decision',
    },
    'audit-failure': {
      type: 'string',
      valueHint: 'deny|allow',
      description: 'When the audit log cannot be written: deny the call (default) or allow it',
    },
    'max-message-bytes': {
      type: 'string',
      valueHint: 'bytes',
      description: 'Refuse longer JSON-RPC messages (default 33554432)',
    },
    watch: {
      type: 'boolean',
      description:
        'Reload policies (and what they extend) when they change; a bad edit keeps the last good one',
    },
    'approval-webhook': {
      type: 'string',
      valueHint: 'url',
      description:
        'POST calls that need approval to this URL (Rust protocol; signed with $KVLAR_WEBHOOK_SECRET when set)',
    },
    'no-elicitation': {
      type: 'boolean',
      description: 'Do not ask the person at the client (elicitation/create) to approve held calls',
    },
    'approval-timeout': {
      type: 'string',
      valueHint: 'secs',
      description: 'How long an approval may take before it is a deny (default 120)',
    },
    admin: {
      type: 'string',
      valueHint: 'host:port',
      description: 'Serve GET /health and GET /metrics here (loopback only)',
    },
    health: {
      type: 'string',
      valueHint: 'host:port',
      description: 'The Rust name of --admin',
    },
    'admin-token-file': {
      type: 'string',
      valueHint: 'file',
      description:
        'A bearer token (16+ characters) for the admin endpoint; required to bind it off loopback',
    },
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const plan = planFrom(context.rawArgs, runtime);
    if (plan === undefined) return ExitCode.failure;
    return runProxy(plan, runtime);
  },
});

interface Plan {
  readonly policies: readonly string[];
  readonly server: { readonly command: string; readonly args: readonly string[] } | undefined;
  readonly listen: HostPort | undefined;
  readonly upstream: HostPort | undefined;
  readonly audit: string | undefined;
  readonly auditFile: AuditFileOptions;
  readonly admin: HostPort | undefined;
  readonly adminToken: string | undefined;
  readonly watch: boolean;
  readonly redactor: Redactor;
  readonly session: Omit<SessionOptions, 'engine' | 'audit'>;
  readonly maxMessageBytes: number | undefined;
}

/** Reads the command line (and `-c`), checks every combination, loads nothing yet. */
function planFrom(rawArgs: readonly string[], runtime: Runtime): Plan | undefined {
  const usage = (message: string) => new CliError('usage', message, { command: 'kvlar proxy' });
  const terminator = rawArgs.indexOf('--');
  const flags = terminator === -1 ? rawArgs : rawArgs.slice(0, terminator);
  const command = terminator === -1 ? [] : rawArgs.slice(terminator + 1);
  const values = flagValues(flags);
  const one = (name: string): string | undefined => values.get(name)?.at(-1);
  const has = (name: string): boolean => values.has(name);

  let config: RustProxyConfig = {};
  const configFile = one('config');
  if (configFile !== undefined) {
    const path = absoluteFrom(runtime.cwd, configFile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new CliError(
        'invalid_input',
        `cannot read proxy config ${configFile}: ${messageOf(error)}`,
      );
    }
    const parsed = parseRustProxyConfig(text, configFile);
    for (const warning of parsed.warnings) runtime.logger.warn(`warning: ${warning}`);
    config = parsed.config;
    if (config.fail_open === true) {
      runtime.logger.warn(
        `warning: ${configFile}: 'fail_open: true' is ignored: kvlar always fails closed`,
      );
    }
  }

  const policies = values.get('policy') ?? config.policy_paths ?? [];
  if (policies.length === 0) throw usage("missing required flag '--policy'");
  const server =
    command.length > 0
      ? { command: command[0] as string, args: command.slice(1) }
      : config.upstream_command === undefined
        ? undefined
        : { command: config.upstream_command, args: config.upstream_args ?? [] };
  if (command.length > 0 && command[0] === '') throw usage('the server command after -- is empty');

  const stdio = has('stdio') || (!has('listen') && config.transport === 'stdio');
  const listenText =
    one('listen') ??
    (stdio ? undefined : (config.listen_addr ?? (server === undefined ? RUST_LISTEN : undefined)));
  if (stdio && has('listen')) throw usage("'--stdio' and '--listen' exclude each other");
  if (stdio && has('upstream'))
    throw usage("'--upstream' is for TCP mode (--listen); with --stdio give the server after --");
  if (listenText === undefined && server === undefined) {
    throw usage(
      'give the server to run after --, e.g. kvlar proxy --stdio --policy p.yaml -- npx server',
    );
  }
  const listen = listenText === undefined ? undefined : hostPort(listenText, '--listen', usage);
  let upstream: HostPort | undefined;
  if (listen !== undefined) {
    const upstreamText =
      one('upstream') ??
      (server === undefined ? (config.upstream_addr ?? RUST_UPSTREAM) : undefined);
    if (upstreamText !== undefined && command.length > 0) {
      throw usage("give either '--upstream' or a server command after --, not both");
    }
    upstream = upstreamText === undefined ? undefined : hostPort(upstreamText, '--upstream', usage);
  } else if (has('upstream')) {
    throw usage("'--upstream' needs '--listen'");
  }

  const mode = one('mode') ?? 'enforce';
  if (mode !== 'enforce' && mode !== 'audit')
    throw usage(`--mode must be 'enforce' or 'audit', not '${mode}'`);
  const auditFailure = one('audit-failure') ?? 'deny';
  if (auditFailure !== 'deny' && auditFailure !== 'allow') {
    throw usage(`--audit-failure must be 'deny' or 'allow', not '${auditFailure}'`);
  }
  const maxText = one('max-message-bytes');
  let maxMessageBytes: number | undefined;
  if (maxText !== undefined) {
    maxMessageBytes = Number(maxText);
    if (!/^\d+$/.test(maxText) || maxMessageBytes < 1024) {
      throw usage(`--max-message-bytes must be a whole number of at least 1024, not '${maxText}'`);
    }
  }
  const timeoutText = one('approval-timeout');
  if (timeoutText !== undefined && !/^\d+$/.test(timeoutText)) {
    throw usage(`--approval-timeout must be a whole number of seconds, not '${timeoutText}'`);
  }
  const watch = has('watch') || config.hot_reload === true;
  const adminText = one('admin') ?? one('health') ?? config.health_addr;
  if (has('admin') && has('health'))
    throw usage("give '--admin' or its Rust name '--health', not both");
  const admin = adminText === undefined ? undefined : hostPort(adminText, '--admin', usage);
  const tokenFile = one('admin-token-file');
  let adminToken: string | undefined;
  if (tokenFile !== undefined) {
    try {
      adminToken = readFileSync(absoluteFrom(runtime.cwd, tokenFile), 'utf8').trim();
    } catch (error) {
      throw new CliError(
        'invalid_input',
        `cannot read --admin-token-file ${tokenFile}: ${messageOf(error)}`,
      );
    }
    if (adminToken.length < 16)
      throw usage(`the token in ${tokenFile} must have at least 16 characters`);
  }
  if (admin !== undefined && !isLoopback(admin.host) && adminToken === undefined) {
    throw usage(
      `--admin must be a loopback address (127.0.0.1, [::1], localhost), not '${admin.host}', unless --admin-token-file guards it`,
    );
  }
  const agentId = one('agent-id');
  const serverName = one('server-name');
  const audit = one('audit') ?? (config.audit_enabled === false ? undefined : config.audit_file);
  const auditFile = auditFileOptions(one, has, audit !== undefined, usage);
  const redactKeys = values.get('redact-key') ?? [];
  for (const key of redactKeys) {
    if (!/[\p{L}\p{N}]/u.test(key))
      throw usage(`--redact-key '${key}' has no letters or digits to match`);
  }
  const redactValues = (values.get('redact-value') ?? []).map((text) => {
    const equals = text.indexOf('=');
    if (equals < 1) throw usage(`--redact-value takes kind=regex, not '${text}'`);
    const pattern = { kind: text.slice(0, equals), regex: text.slice(equals + 1) };
    try {
      createRedactor({ values: [pattern] });
    } catch (error) {
      throw usage(`--redact-value: ${messageOf(error)}`);
    }
    return pattern;
  });
  // One redactor for everything that leaves the proxy with a call's arguments: the audit, the
  // approvals page and the webhook.
  const redactor = createRedactor({
    keys: [...DEFAULT_REDACTED_KEYS, ...redactKeys],
    values: [...DEFAULT_SECRET_PATTERNS, ...redactValues],
  });
  const webhook = one('approval-webhook');
  let approver: Approver | undefined;
  if (webhook !== undefined) {
    const secret = runtime.env.KVLAR_WEBHOOK_SECRET;
    try {
      approver = createWebhookApprover({
        url: webhook,
        redact: redactor.value,
        ...(secret === undefined || secret === '' ? {} : { secret }),
      });
    } catch (error) {
      throw usage(`--approval-webhook: ${messageOf(error)}`);
    }
  }
  return {
    policies,
    watch,
    admin,
    adminToken,
    redactor,
    server,
    listen,
    upstream,
    audit: audit === undefined ? undefined : absoluteFrom(runtime.cwd, audit),
    auditFile,
    maxMessageBytes,
    session: {
      mode,
      auditFailure,
      auditResults: has('audit-results'),
      strict: has('strict'),
      filterTools: !has('no-filter-tools'),
      elicitApprovals: !has('no-elicitation'),
      ...(agentId === undefined ? {} : { agentId }),
      ...(serverName === undefined ? {} : { serverName }),
      ...(timeoutText === undefined ? {} : { approvalTimeoutMs: Number(timeoutText) * 1000 }),
      ...(approver === undefined ? {} : { approver }),
      onReport: reporterFor(runtime),
    },
  };
}

/** The JSONL sink's rotation, torn-line handling and sync, from the `--audit-…` flags. */
interface AuditFileOptions {
  readonly maxBytes?: number;
  readonly rotateDaily?: boolean;
  readonly onTornLine?: 'refuse' | 'rotate';
  readonly sync?: 'always' | 'background';
}

function auditFileOptions(
  one: (name: string) => string | undefined,
  has: (name: string) => boolean,
  auditing: boolean,
  usage: (message: string) => CliError,
): AuditFileOptions {
  const given = ['audit-max-bytes', 'audit-rotate-daily', 'audit-torn-line', 'audit-sync'].filter(
    has,
  );
  if (given.length === 0) return {};
  if (!auditing) throw usage(`--${given[0]} needs --audit FILE`);
  const maxText = one('audit-max-bytes');
  let maxBytes: number | undefined;
  if (maxText !== undefined) {
    maxBytes = Number(maxText);
    if (!/^\d+$/.test(maxText) || maxBytes < 1024) {
      throw usage(`--audit-max-bytes must be a whole number of at least 1024, not '${maxText}'`);
    }
  }
  const torn = one('audit-torn-line');
  if (torn !== undefined && torn !== 'refuse' && torn !== 'rotate') {
    throw usage(`--audit-torn-line must be 'refuse' or 'rotate', not '${torn}'`);
  }
  const sync = one('audit-sync');
  if (sync !== undefined && sync !== 'always' && sync !== 'background') {
    throw usage(`--audit-sync must be 'always' or 'background', not '${sync}'`);
  }
  return {
    ...(sync === undefined ? {} : { sync }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(has('audit-rotate-daily') ? { rotateDaily: true } : {}),
    ...(torn === undefined ? {} : { onTornLine: torn }),
  };
}

async function runProxy(plan: Plan, runtime: Runtime): Promise<number> {
  const initial = loadPolicySet(plan.policies, runtime);
  if (!initial.ok) {
    reportIssues(runtime, initial.issues);
    return ExitCode.failure;
  }
  reportIssues(runtime, initial.warnings);
  let engine = initial.engine;
  const { redactor } = plan;
  const audit: AuditSink =
    plan.audit === undefined
      ? createStderrSink({ stream: process.stderr, redactor })
      : await createJsonlSink({
          path: plan.audit,
          ...plan.auditFile,
          redactor,
          onWarning: (warning) => runtime.logger.warn(`warning: audit: ${warning.message}`),
        });
  let sessions = () => 0;
  let pending = () => 0;
  const metrics = createMetrics({
    version: VERSION,
    engine: () => engine,
    sessions: () => sessions(),
    pendingApprovals: () => pending(),
  });
  const report = plan.session.onReport;
  // With an admin endpoint, people answer held calls there (page, API, `kvlar approve`); a
  // webhook, when given too, is asked at the same time and the first answer decides.
  const queue =
    plan.admin === undefined ? undefined : createApprovalQueue({ redact: redactor.value });
  const approvers = [queue, plan.session.approver].filter((entry) => entry !== undefined);
  const session: SessionOptions = {
    ...plan.session,
    ...(approvers.length === 0 ? {} : { approver: combineApprovers(approvers) }),
    engine: () => engine,
    audit,
    onDecision: metrics.onDecision,
    onAnswered: metrics.onAnswered,
    onReport: (event) => {
      metrics.onReport(event);
      report?.(event);
    },
  };
  const limit = plan.maxMessageBytes === undefined ? {} : { maxMessageBytes: plan.maxMessageBytes };
  let admin: AdminServer | undefined;
  let announced: { remove(): Promise<void> } | undefined;
  let watcher: PolicyWatcher | undefined;
  try {
    if (plan.watch) {
      watcher = watchPolicies({
        files: initial.files,
        hash: policyInfo(engine).hash,
        load: () => reloadPolicySet(plan.policies, runtime),
        onReload: (load) => {
          engine = load.engine;
          metrics.onReload(true);
          const info = policyInfo(load.engine);
          runtime.logger.info(
            `kvlar: policies reloaded: ${load.engine.ruleCount} rules, sha256 ${info.hash.slice(0, 12)}`,
          );
          // Every reload is on the record, with the hash of what decides from now on.
          audit
            .write({
              action_type: 'policy_reload',
              resource: info.name,
              agent_id: 'kvlar',
              outcome: 'allowed',
              matched_rule: '_policy_reload',
              reason: `policies reloaded from ${load.files.join(', ')}`,
              session: 'kvlar',
              server: plan.session.serverName ?? '',
              policy: info,
            })
            .catch((error: unknown) => {
              runtime.logger.error(`kvlar: the reload could not be audited: ${messageOf(error)}`);
            });
        },
        onError: (load) => {
          metrics.onReload(false);
          runtime.logger.error(load.message);
          runtime.logger.error(
            'kvlar: the policy change was not loaded; the last good policy stays in force',
          );
        },
      });
    }
    if (plan.admin !== undefined) {
      const token = plan.adminToken ?? newAdminToken();
      const approvals = queue === undefined ? undefined : { queue, token };
      if (queue !== undefined) pending = () => queue.list().length;
      const adminOptions = plan.adminToken === undefined ? {} : { token: plan.adminToken };
      admin = await startAdminServer(plan.admin, metrics, approvals, adminOptions).catch(
        (error: unknown) => {
          throw new CliError(
            'invalid_input',
            `cannot serve --admin on ${plan.admin?.host}:${plan.admin?.port}: ${messageOf(error)}`,
          );
        },
      );
      const shown = admin.address.host.includes(':')
        ? `[${admin.address.host}]`
        : admin.address.host;
      const url = `http://${shown}:${admin.address.port}`;
      runtime.logger.info(`kvlar admin endpoint on ${url} (GET /health, GET /metrics)`);
      runtime.logger.info(
        `kvlar approvals: ${url}/#token=${token} (or kvlar approvals / approve / deny)`,
      );
      announced = await announceProxy(runtime.env, {
        pid: process.pid,
        url,
        token,
        server:
          plan.session.serverName ??
          (plan.server === undefined ? undefined : serverLabel(plan.server)) ??
          (plan.upstream === undefined ? '' : `${plan.upstream.host}:${plan.upstream.port}`),
        started: new Date().toISOString(),
      }).catch((error: unknown) => {
        runtime.logger.warn(
          `warning: cannot announce the admin endpoint for kvlar approvals: ${messageOf(error)}`,
        );
        return undefined;
      });
    }
    if (plan.listen === undefined) {
      sessions = () => 1;
      return await runStdio(plan, session, limit);
    }
    return await runTcp(plan, plan.listen, session, limit, runtime, (count) => {
      sessions = count;
    });
  } finally {
    await announced?.remove();
    await watcher?.close();
    await admin?.close();
    await audit.close();
  }
}

async function runStdio(
  plan: Plan,
  session: SessionOptions,
  limit: { maxMessageBytes?: number },
): Promise<number> {
  const server = plan.server as NonNullable<Plan['server']>;
  const onRawWritten = createRelayCollector();
  const proxy = await startStdioProxy({
    ...session,
    ...limit,
    server,
    ...(onRawWritten === undefined ? {} : { onRawWritten }),
  });
  const stop = () => void proxy.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await proxy.done;
    return result.exitCode;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    // Nothing more will be read; let the process end even if the client keeps stdin open.
    process.stdin.pause();
    process.stdin.unref?.();
  }
}

async function runTcp(
  plan: Plan,
  listen: HostPort,
  session: SessionOptions,
  limit: { maxMessageBytes?: number },
  runtime: Runtime,
  countSessions: (count: () => number) => void,
): Promise<number> {
  const upstream =
    plan.upstream !== undefined
      ? { address: plan.upstream }
      : { server: plan.server as NonNullable<Plan['server']> };
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  try {
    const onRawWritten = createRelayCollector();
    proxy = await startTcpProxy({
      ...session,
      ...limit,
      listen,
      upstream,
      ...(onRawWritten === undefined ? {} : { onRawWritten }),
    });
  } catch (error) {
    throw new CliError(
      'invalid_input',
      `cannot listen on ${listen.host}:${listen.port}: ${messageOf(error)}`,
    );
  }
  countSessions(() => proxy.sessions);
  const target =
    plan.upstream === undefined
      ? 'a server per connection'
      : `${plan.upstream.host}:${plan.upstream.port}`;
  runtime.logger.info(
    `kvlar proxy listening on ${proxy.address.host}:${proxy.address.port} → ${target}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await proxy.close();
  return ExitCode.ok;
}

/** Every value of every flag, in order; `--policy a --policy b` keeps both. */
function flagValues(flags: readonly string[]): Map<string, string[]> {
  const aliases: Readonly<Record<string, string>> = { p: 'policy', c: 'config' };
  const booleans = new Set(['stdio', 'strict', 'no-filter-tools', 'no-elicitation', 'watch']);
  const values = new Map<string, string[]>();
  for (let index = 0; index < flags.length; index++) {
    const token = flags[index] as string;
    const match = /^--?([^=]+)(?:=(.*))?$/s.exec(token);
    if (match === null) continue;
    const raw = match[1] as string;
    const name = token.startsWith('--') ? raw : (aliases[raw] ?? raw);
    let value = match[2];
    if (!booleans.has(name) && value === undefined) {
      index++;
      value = flags[index];
    }
    const list = values.get(name) ?? [];
    list.push(value ?? '');
    values.set(name, list);
  }
  return values;
}

function hostPort(text: string, flag: string, usage: (message: string) => CliError): HostPort {
  const parsed = parseHostPort(text);
  if (parsed === undefined) throw usage(`${flag} must be HOST:PORT, not '${text}'`);
  return parsed;
}

function reporterFor(runtime: Runtime): (report: ProxyReport) => void {
  return (report) => {
    const line = `kvlar: ${report.message}`;
    if (report.level === 'error') runtime.logger.error(line);
    else if (report.level === 'warn') runtime.logger.warn(line);
    else if (report.level === 'info') runtime.logger.info(line);
    else runtime.logger.debug(line);
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
