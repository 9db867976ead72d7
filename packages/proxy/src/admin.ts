/**
 * The admin endpoint (`kvlar proxy --admin HOST:PORT`, or the Rust `--health ADDR`): `GET /health`
 * with the Rust fields and counters that move, and `GET /metrics` in Prometheus text. Read-only,
 * loopback only, and it answers only requests addressed to it by name (a `Host` check), so a web
 * page cannot reach it through DNS rebinding.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Engine } from '@kvlar/core';
import type { DecisionEvent, ProxyReport } from './proxy.js';
import type { HostPort } from './tcp.js';

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

export interface ProxyMetrics {
  /** Give it to `createProxy` (every session of a TCP proxy shares one). */
  readonly onDecision: (event: DecisionEvent) => void;
  /** Give it the proxy's reports too: it counts audit failures. */
  readonly onReport: (report: ProxyReport) => void;
  /** Call on every policy reload, good (`ok`) or refused. */
  readonly onReload: (ok: boolean) => void;
  health(): Health;
  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string;
}

export interface MetricsOptions {
  readonly version: string;
  /** The engine in force (its rule count is reported). */
  readonly engine: () => Engine;
  /** Open client sessions (1 in stdio mode). */
  readonly sessions?: () => number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: () => number;
}

/** Evaluation-time histogram buckets, in seconds: a decision takes about a microsecond. */
const BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2];
/** Rule ids are bounded by the policy, but a label set per rule still wants a ceiling. */
const MAX_RULE_LABELS = 1000;

export function createMetrics(options: MetricsOptions): ProxyMetrics {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const byEffect = { allow: 0, deny: 0, require_approval: 0 };
  const byRule = new Map<string, number>();
  const buckets = BUCKETS.map(() => 0);
  let evaluations = 0;
  let evaluationSeconds = 0;
  let auditFailures = 0;
  let reloads = 0;
  let reloadFailures = 0;

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
      const key = `${decision.type}\u0000${decision.ruleId}`;
      if (byRule.has(key) || byRule.size < MAX_RULE_LABELS)
        byRule.set(key, (byRule.get(key) ?? 0) + 1);
      if (evaluationMs > 0) {
        const seconds = evaluationMs / 1000;
        evaluations += 1;
        evaluationSeconds += seconds;
        BUCKETS.forEach((bound, index) => {
          if (seconds <= bound) buckets[index] = (buckets[index] ?? 0) + 1;
        });
      }
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
      for (const [key, count] of [...byRule].sort()) {
        const [effect, rule] = key.split('\u0000') as [string, string];
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
        '# HELP kvlar_audit_failures_total Audit records that could not be written.',
        '# TYPE kvlar_audit_failures_total counter',
        `kvlar_audit_failures_total ${auditFailures}`,
        '# HELP kvlar_policy_reloads_total Policy reloads, by result.',
        '# TYPE kvlar_policy_reloads_total counter',
        `kvlar_policy_reloads_total{result="ok"} ${reloads}`,
        `kvlar_policy_reloads_total{result="refused"} ${reloadFailures}`,
        '# HELP kvlar_sessions Open client sessions.',
        '# TYPE kvlar_sessions gauge',
        `kvlar_sessions ${now.sessions}`,
        '# HELP kvlar_rules Rules loaded.',
        '# TYPE kvlar_rules gauge',
        `kvlar_rules ${now.rules_count}`,
        '# HELP kvlar_uptime_seconds Seconds since the proxy started.',
        '# TYPE kvlar_uptime_seconds gauge',
        `kvlar_uptime_seconds ${now.uptime_secs}`,
      );
      return `${lines.join('\n')}\n`;
    },
  };
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface AdminServer {
  readonly address: HostPort;
  close(): Promise<void>;
}

const LOOPBACK = /^(?:127(?:\.\d{1,3}){3}|::1|localhost)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Serves `/health` and `/metrics` on a loopback address. */
export async function startAdminServer(
  listen: HostPort,
  metrics: ProxyMetrics,
): Promise<AdminServer> {
  if (!isLoopback(listen.host)) {
    throw new Error(
      `the admin endpoint listens on loopback only (127.0.0.1, ::1, localhost), not ${listen.host}`,
    );
  }
  let allowedHosts = new Set<string>();
  const server = createServer((request, response) => {
    serve(request, response, metrics, allowedHosts);
  });
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

function serve(
  request: IncomingMessage,
  response: ServerResponse,
  metrics: ProxyMetrics,
  allowedHosts: ReadonlySet<string>,
): void {
  const send = (status: number, type: string, body: string) => {
    response.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(body);
  };
  const host = request.headers.host?.toLowerCase();
  // A page on evil.example that rebinds its name to 127.0.0.1 still sends `Host: evil.example`.
  if (host !== undefined && !allowedHosts.has(host)) {
    send(403, 'text/plain; charset=utf-8', 'forbidden: unexpected Host header\n');
    return;
  }
  const path = (request.url ?? '/').split('?', 1)[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
    return;
  }
  if (path === '/health') {
    send(200, 'application/json', `${JSON.stringify(metrics.health())}\n`);
    return;
  }
  if (path === '/metrics') {
    send(200, 'text/plain; version=0.0.4; charset=utf-8', metrics.prometheus());
    return;
  }
  send(404, 'text/plain; charset=utf-8', 'not found: try /health or /metrics\n');
}
