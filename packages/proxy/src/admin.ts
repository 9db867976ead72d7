/**
 * The admin endpoint (`kvlar proxy --admin HOST:PORT`, or the Rust `--health ADDR`): `GET /health`
 * with the Rust fields and counters that move, and `GET /metrics` in Prometheus text. Read-only,
 * loopback only, and it answers only requests addressed to it by name (a `Host` check), so a web
 * page cannot reach it through DNS rebinding.
 */
import { timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Engine } from '@kvlar/core';
import type { ApprovalQueue } from './approval-queue.js';
import type { AnswerEvent, DecisionEvent, ProxyReport } from './proxy.js';
import type { HostPort } from './tcp.js';

/**
 * `node:http` loaded with `require`, not `import` (docs/adr/023). Imported, a built-in has every
 * export read to make its module, and on Node 22 and later reading `http.WebSocket` loads undici:
 * about 7 MiB more resident in every proxy, whether it serves an admin endpoint or not.
 */
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
type IncomingMessage = import('node:http').IncomingMessage;
type ServerResponse = import('node:http').ServerResponse;

/** The Rust health document, with Kvlar's additions after its fields. */
export interface Health {
  readonly status: 'ok';
  readonly uptime_secs: number;
  readonly policy_loaded: boolean;
  readonly rules_count: number;
  readonly requests_evaluated: number;
  readonly requests_allowed: number;
  readonly requests_denied: number;
  readonly requests_approval: number;
  readonly version: string;
  readonly audit_failures: number;
  readonly sessions: number;
  readonly reloads: number;
  readonly reload_failures: number;
}

/** Counters and histograms for the admin endpoint, fed by the proxy's observers. */
export interface ProxyMetrics {
  /** Give it to `createProxy` (every session of a TCP proxy shares one). */
  readonly onDecision: (event: DecisionEvent) => void;
  /** Give it the proxy's reports too: it counts audit failures. */
  readonly onReport: (report: ProxyReport) => void;
  /** Give it to `createProxy` too: it times the server's answers. */
  readonly onAnswered: (event: AnswerEvent) => void;
  /** Call on every policy reload, good (`ok`) or refused. */
  readonly onReload: (ok: boolean) => void;
  /** The `/health` document now. */
  health(): Health;
  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string;
}

/** What `createMetrics` cannot count itself. */
export interface MetricsOptions {
  readonly version: string;
  /** The engine in force (its rule count is reported). */
  readonly engine: () => Engine;
  /** Open client sessions (1 in stdio mode). */
  readonly sessions?: () => number;
  /** Calls waiting for a person now. */
  readonly pendingApprovals?: () => number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Evaluation-time histogram buckets, in seconds: a decision takes about a microsecond. */
const BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2];
/** Round-trip buckets, in seconds: a tool call takes milliseconds to minutes. */
const ROUND_TRIP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120];
/** Rule ids are bounded by the policy, but a label set per rule still wants a ceiling. */
const MAX_RULE_LABELS = 1000;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Counts `value` in every cumulative bucket whose bound it does not exceed (run per call). */
function observe(bounds: readonly number[], counts: number[], value: number): void {
  for (let index = bounds.length - 1; index >= 0 && value <= (bounds[index] as number); index--) {
    counts[index] = (counts[index] ?? 0) + 1;
  }
}

/** The metrics behind `/health` and `/metrics`: wire its observers into `createProxy`. */
export function createMetrics(options: MetricsOptions): ProxyMetrics {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const byEffect = { allow: 0, deny: 0, require_approval: 0 };
  /** Decisions by effect, then rule id: no key string built per call. */
  const byRule = {
    allow: new Map<string, number>(),
    deny: new Map<string, number>(),
    require_approval: new Map<string, number>(),
  };
  let ruleLabels = 0;
  const buckets = BUCKETS.map(() => 0);
  let evaluations = 0;
  let evaluationSeconds = 0;
  let auditFailures = 0;
  let reloads = 0;
  let reloadFailures = 0;
  const roundTrip = ROUND_TRIP_BUCKETS.map(() => 0);
  let answers = 0;
  let answerErrors = 0;
  let roundTripSeconds = 0;

  const health = (): Health => ({
    status: 'ok',
    uptime_secs: Math.floor((clock() - started) / 1000),
    policy_loaded: true,
    rules_count: options.engine().ruleCount,
    requests_evaluated: byEffect.allow + byEffect.deny + byEffect.require_approval,
    requests_allowed: byEffect.allow,
    requests_denied: byEffect.deny,
    requests_approval: byEffect.require_approval,
    version: options.version,
    audit_failures: auditFailures,
    sessions: options.sessions?.() ?? 0,
    reloads,
    reload_failures: reloadFailures,
  });

  return {
    health,
    onDecision({ decision, evaluationMs }) {
      byEffect[decision.type] += 1;
      const rules = byRule[decision.type];
      const count = rules.get(decision.ruleId);
      if (count !== undefined) rules.set(decision.ruleId, count + 1);
      else if (ruleLabels < MAX_RULE_LABELS) {
        ruleLabels += 1;
        rules.set(decision.ruleId, 1);
      }
      if (evaluationMs > 0) {
        const seconds = evaluationMs / 1000;
        evaluations += 1;
        evaluationSeconds += seconds;
        observe(BUCKETS, buckets, seconds);
      }
    },
    onAnswered({ ok, roundTripMs }) {
      const seconds = roundTripMs / 1000;
      answers += 1;
      if (!ok) answerErrors += 1;
      roundTripSeconds += seconds;
      observe(ROUND_TRIP_BUCKETS, roundTrip, seconds);
    },
    onReload(ok) {
      if (ok) reloads += 1;
      else reloadFailures += 1;
    },
    onReport(report) {
      if (report.code === 'audit_failed') auditFailures += 1;
    },
    prometheus() {
      const now = health();
      const lines = [
        '# HELP kvlar_decisions_total Decisions taken, by effect and rule.',
        '# TYPE kvlar_decisions_total counter',
      ];
      const labelled = Object.entries(byRule).flatMap(([effect, rules]) =>
        [...rules].map(([rule, count]) => ({ effect, rule, count })),
      );
      labelled.sort((a, b) =>
        a.effect === b.effect ? compareText(a.rule, b.rule) : compareText(a.effect, b.effect),
      );
      for (const { effect, rule, count } of labelled) {
        lines.push(
          `kvlar_decisions_total{effect="${label(effect)}",rule="${label(rule)}"} ${count}`,
        );
      }
      lines.push(
        '# HELP kvlar_evaluation_seconds Time the engine took per decision.',
        '# TYPE kvlar_evaluation_seconds histogram',
      );
      BUCKETS.forEach((bound, index) => {
        lines.push(`kvlar_evaluation_seconds_bucket{le="${bound}"} ${buckets[index] ?? 0}`);
      });
      lines.push(
        `kvlar_evaluation_seconds_bucket{le="+Inf"} ${evaluations}`,
        `kvlar_evaluation_seconds_sum ${evaluationSeconds}`,
        `kvlar_evaluation_seconds_count ${evaluations}`,
        "# HELP kvlar_upstream_round_trip_seconds From forwarding a request to the server's answer.",
        '# TYPE kvlar_upstream_round_trip_seconds histogram',
        ...ROUND_TRIP_BUCKETS.map(
          (bound, index) =>
            `kvlar_upstream_round_trip_seconds_bucket{le="${bound}"} ${roundTrip[index] ?? 0}`,
        ),
        `kvlar_upstream_round_trip_seconds_bucket{le="+Inf"} ${answers}`,
        `kvlar_upstream_round_trip_seconds_sum ${roundTripSeconds}`,
        `kvlar_upstream_round_trip_seconds_count ${answers}`,
        ...metric(
          'kvlar_upstream_errors_total',
          'counter',
          'Server answers that were JSON-RPC errors.',
          answerErrors,
        ),
        ...metric(
          'kvlar_pending_approvals',
          'gauge',
          'Calls waiting for a person.',
          options.pendingApprovals?.() ?? 0,
        ),
        ...metric(
          'kvlar_audit_failures_total',
          'counter',
          'Audit records that could not be written.',
          auditFailures,
        ),
        '# HELP kvlar_policy_reloads_total Policy reloads, by result.',
        '# TYPE kvlar_policy_reloads_total counter',
        `kvlar_policy_reloads_total{result="ok"} ${reloads}`,
        `kvlar_policy_reloads_total{result="refused"} ${reloadFailures}`,
        ...metric('kvlar_sessions', 'gauge', 'Open client sessions.', now.sessions),
        ...metric('kvlar_rules', 'gauge', 'Rules loaded.', now.rules_count),
        ...metric(
          'kvlar_uptime_seconds',
          'gauge',
          'Seconds since the proxy started.',
          now.uptime_secs,
        ),
        ...memoryLines(),
      );
      return `${lines.join('\n')}\n`;
    },
  };
}

/**
 * The process's memory under the names Prometheus client libraries use (`process_…`, and
 * prom-client's `nodejs_…`), so existing dashboards read it. Per V8 heap space, since the young
 * generation (`space="new"`) is where a proxy's memory grows under load (docs/adr/021).
 */
function memoryLines(): string[] {
  const usage = process.memoryUsage();
  const spaces = getHeapSpaceStatistics();
  const space = (name: string) => label(name.replace(/_space$/, ''));
  return [
    ...metric(
      'process_resident_memory_bytes',
      'gauge',
      'Resident memory size in bytes.',
      usage.rss,
    ),
    ...metric('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size in bytes.', usage.heapTotal),
    ...metric('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used in bytes.', usage.heapUsed),
    ...metric(
      'nodejs_external_memory_bytes',
      'gauge',
      'Memory outside the V8 heap held by its objects (Buffers).',
      usage.external,
    ),
    '# HELP nodejs_heap_space_size_total_bytes V8 heap space size in bytes, by space.',
    '# TYPE nodejs_heap_space_size_total_bytes gauge',
    ...spaces.map(
      (entry) =>
        `nodejs_heap_space_size_total_bytes{space="${space(entry.space_name)}"} ${entry.space_size}`,
    ),
    '# HELP nodejs_heap_space_size_used_bytes V8 heap space used in bytes, by space.',
    '# TYPE nodejs_heap_space_size_used_bytes gauge',
    ...spaces.map(
      (entry) =>
        `nodejs_heap_space_size_used_bytes{space="${space(entry.space_name)}"} ${entry.space_used_size}`,
    ),
  ];
}

/** One unlabelled metric, as its three lines of Prometheus text. */
function metric(name: string, type: 'counter' | 'gauge', help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`];
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A running admin endpoint. */
export interface AdminServer {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: HostPort;
  /** Stops listening. */
  close(): Promise<void>;
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/i;

/** Whether a host name or address is loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** The approvals part of the admin endpoint: a queue, and the token that guards it. */
export interface AdminApprovals {
  readonly queue: ApprovalQueue;
  /** Required as `Authorization: Bearer <token>` on every approvals request. */
  readonly token: string;
}

/** Options of `startAdminServer`. */
export interface AdminOptions {
  /**
   * Off loopback, every request (health and metrics included) needs this bearer token: other
   * machines can reach the endpoint, and no Host name can be trusted there.
   */
  readonly token?: string;
  /** Connections open at once; more are closed as they arrive. Default 256. */
  readonly maxConnections?: number;
  /** A connection silent this long is closed (milliseconds). Default 30 000. */
  readonly idleTimeoutMs?: number;
  /**
   * A request whose headers (or whole body) have not arrived this long after it started is
   * answered 408 and its connection closed (milliseconds). Default 15 000.
   */
  readonly requestTimeoutMs?: number;
}

const MAX_CONNECTIONS = 256;
const IDLE_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * Serves `/health`, `/metrics` and, given `approvals`, the approvals page and API. Listens on
 * loopback only, unless given a token of 16 characters or more; rejects otherwise.
 */
export async function startAdminServer(
  listen: HostPort,
  metrics: ProxyMetrics,
  approvals?: AdminApprovals,
  options: AdminOptions = {},
): Promise<AdminServer> {
  const remote = !isLoopback(listen.host);
  if (remote && (options.token === undefined || options.token.length < 16)) {
    throw new Error(
      `the admin endpoint listens on loopback (127.0.0.1, ::1, localhost) unless given a token of 16+ characters; not on ${listen.host} without one`,
    );
  }
  const everything = remote ? options.token : undefined;
  let allowedHosts = new Set<string>();
  // Any local user can connect: a connection that sends nothing, or a request that trickles in,
  // is closed, and only so many are kept, so that sockets cannot use up the proxy's descriptors
  // (which it needs for its audit file, its server and its clients).
  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const idleTimeout = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      keepAliveTimeout: Math.min(5000, idleTimeout),
      // How often Node looks for requests past their time (its default, 30 s, is longer).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
    (request, response) => {
      serve(request, response, metrics, allowedHosts, approvals, everything).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    },
  );
  server.maxConnections = options.maxConnections ?? MAX_CONNECTIONS;
  server.setTimeout(idleTimeout, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : listen.port;
  allowedHosts = new Set(
    [
      'localhost',
      '127.0.0.1',
      '[::1]',
      listen.host.includes(':') ? `[${listen.host}]` : listen.host,
    ].map((host) => `${host.toLowerCase()}:${port}`),
  );
  return {
    address: { host: listen.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const MAX_BODY_BYTES = 16 * 1024;
const DECISION_PATH = /^\/approvals\/([A-Za-z0-9._-]{1,200})\/(approve|deny)$/;

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  metrics: ProxyMetrics,
  allowedHosts: ReadonlySet<string>,
  approvals: AdminApprovals | undefined,
  everything: string | undefined,
): Promise<void> {
  const send = (status: number, type: string, body: string) => {
    response.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'content-security-policy':
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
      'referrer-policy': 'no-referrer',
    });
    response.end(body);
  };
  const sendJson = (status: number, value: unknown) =>
    send(status, 'application/json', `${JSON.stringify(value)}\n`);
  const host = request.headers.host?.toLowerCase();
  const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
  if (everything !== undefined) {
    // Off loopback the token guards everything (the page itself excepted: it holds no data).
    if (path !== '/' && !authorized(request, everything)) {
      response.setHeader('www-authenticate', 'Bearer');
      sendJson(401, { error: 'a bearer token is required' });
      return;
    }
  } else if (host !== undefined && !allowedHosts.has(host)) {
    // A page on evil.example that rebinds its name to 127.0.0.1 still sends `Host: evil.example`.
    send(403, 'text/plain; charset=utf-8', 'forbidden: unexpected Host header\n');
    return;
  }
  if (path.startsWith('/approvals') && approvals !== undefined) {
    if (!authorized(request, approvals.token)) {
      response.setHeader('www-authenticate', 'Bearer');
      sendJson(401, {
        error: 'a bearer token is required (printed by kvlar proxy, and in its token file)',
      });
      return;
    }
    if (path === '/approvals' && request.method === 'GET') {
      sendJson(200, { approvals: approvals.queue.list() });
      return;
    }
    const match = DECISION_PATH.exec(path);
    if (match !== null && request.method === 'POST') {
      // A cross-site form cannot send JSON with this header, and a page elsewhere has another Origin.
      const origin = request.headers.origin;
      if (
        origin !== undefined &&
        (host === undefined || origin.toLowerCase() !== `http://${host}`)
      ) {
        sendJson(403, { error: 'cross-origin request refused' });
        return;
      }
      if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
        sendJson(415, { error: 'send a JSON body ({} at least), as application/json' });
        return;
      }
      const body = await readJson(request);
      if (body === undefined) {
        sendJson(400, {
          error: `the body must be a JSON object of at most ${MAX_BODY_BYTES} bytes`,
        });
        return;
      }
      const reason = typeof body.reason === 'string' ? body.reason.slice(0, 1000) : undefined;
      const digest = typeof body.digest === 'string' ? body.digest : undefined;
      const who =
        typeof body.approver === 'string' && body.approver !== ''
          ? body.approver.slice(0, 200)
          : 'admin';
      const result = approvals.queue.decide(
        match[1] as string,
        {
          approved: match[2] === 'approve',
          approver: who,
          channel:
            typeof body.channel === 'string' && body.channel === 'cli' ? 'cli' : 'admin_http',
          ...(reason === undefined ? {} : { reason }),
        },
        digest,
      );
      if (result.ok) sendJson(200, { ok: true });
      else if (result.reason === 'not_found')
        sendJson(404, { error: 'no such held call (answered, withdrawn or timed out)' });
      else sendJson(409, { error: 'the held call is not the one you saw (digest mismatch)' });
      return;
    }
    response.setHeader('allow', path === '/approvals' ? 'GET' : 'POST');
    sendJson(405, { error: 'method not allowed' });
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  if (path === '/health') {
    sendJson(200, metrics.health());
    return;
  }
  if (path === '/metrics') {
    send(200, 'text/plain; version=0.0.4; charset=utf-8', metrics.prometheus());
    return;
  }
  if (path === '/' && approvals !== undefined) {
    send(200, 'text/html; charset=utf-8', APPROVALS_PAGE);
    return;
  }
  send(404, 'text/plain; charset=utf-8', 'not found: try /health or /metrics\n');
}

function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The approvals page. The token travels in the URL fragment (`/#token=…`), which browsers never
 * send to a server; the page keeps it in memory and sends it as a bearer header. Everything from
 * the queue is inserted as text, never as HTML.
 */
const APPROVALS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kvlar approvals</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem;color:#222}
h1{font-size:1.3rem}.call{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
pre{background:#f5f5f5;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere}
strong,.meta,p{overflow-wrap:anywhere}
.meta{color:#555;font-size:.9rem}button{margin-right:.5rem;padding:.4rem 1rem}
.approve{background:#1a7f37;color:#fff;border:0}.deny{background:#cf222e;color:#fff;border:0}
#status{color:#555}
</style></head><body>
<h1>Calls waiting for approval</h1><p id="status">Loading…</p><div id="calls"></div>
<script>
// The token arrives in the fragment; it is kept for this tab only and taken out of the address bar
// (and so out of the history).
const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromLink) { sessionStorage.setItem('kvlar-token', fromLink); history.replaceState(null, '', location.pathname); }
const token = sessionStorage.getItem('kvlar-token') || '';
let shown = '';
const calls = document.getElementById('calls'), status = document.getElementById('status');
// What the agent chose is shown as the CLI shows it: control, bidi and invisible characters as
// \\uXXXX, so that a right-to-left override cannot reorder a name and nothing is there unseen.
// Newlines are kept in arguments only, where JSON has escaped the agent's own: they are the layout.
const UNSAFE = /[\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb]|\\udb40[\\udc00-\\udc7f]/g;
function safe(text, layout) { return String(text).replace(UNSAFE, (found) => layout && found === '\\n' ? found : found.split('').map((unit) => '\\\\u' + unit.charCodeAt(0).toString(16).padStart(4, '0')).join('')); }
function el(tag, cls, text, layout) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = safe(text, layout); return e; }
async function api(path, body) {
  const init = { headers: { authorization: 'Bearer ' + token } };
  if (body) { init.method = 'POST'; init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
  const response = await fetch(path, init);
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.status);
  return response.json();
}
async function decide(call, verb, box) {
  let reason;
  if (verb === 'deny') {
    reason = prompt('Why? (optional)');
    if (reason === null) return; // Cancel: no decision.
  }
  for (const button of box.querySelectorAll('button')) button.disabled = true;
  try {
    await api('/approvals/' + encodeURIComponent(call.id) + '/' + verb, { digest: call.digest, reason: reason || undefined, approver: 'web page' });
    flash((verb === 'approve' ? 'Approved ' : 'Denied ') + safe(call.tool) + '.');
  } catch (error) { flash('Not recorded: ' + String(error.message || error)); }
  shown = '';
  refresh();
}
let flashed = '';
function flash(text) { flashed = text; setTimeout(() => { if (flashed === text) flashed = ''; }, 5000); }
async function refresh() {
  if (!token) { status.textContent = 'Open this page with the link kvlar proxy printed (it ends in #token=…).'; return; }
  try {
    const { approvals } = await api('/approvals');
    status.textContent = (flashed ? flashed + ' ' : '') + (approvals.length === 0 ? 'Nothing is waiting.' : approvals.length + ' waiting.');
    // Rebuilt only when the set of held calls changes: a selection or a pending click survives.
    const key = approvals.map((call) => call.id).join(',');
    if (key === shown) return;
    shown = key;
    calls.replaceChildren(...approvals.map((call) => {
      const box = el('div', 'call');
      box.append(el('strong', '', call.tool), el('div', 'meta',
        'agent ' + call.agent_id + (call.server ? ' · server ' + call.server : '') + ' · rule ' + call.rule_id +
        ' · since ' + new Date(call.requested_at).toLocaleTimeString() + ' · digest ' + call.digest.slice(0, 12)));
      // Wrapped, never scrolled: every character of what is approved is on the page.
      box.append(el('p', '', call.reason), el('pre', '', JSON.stringify(call.arguments, null, 2), true));
      const approve = el('button', 'approve', 'Approve'), deny = el('button', 'deny', 'Deny');
      approve.onclick = () => decide(call, 'approve', box); deny.onclick = () => decide(call, 'deny', box);
      box.append(approve, deny);
      return box;
    }));
  } catch (error) { status.textContent = 'Cannot load: ' + (error.message || error); }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
