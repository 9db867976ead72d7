import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminServer, createMetrics, startAdminServer } from '../src/admin.js';
import { engineFrom } from './harness.js';

const engine = engineFrom(`
name: p
version: "1"
rules:
  - id: allow-read
    match_on: { resources: [read] }
    effect: { type: allow }
`);

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          type: response.headers['content-type'] ?? '',
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const servers: AdminServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function serve() {
  let now = 1_000_000;
  const metrics = createMetrics({
    version: '9.9.9',
    engine: () => engine,
    sessions: () => 2,
    clock: () => now,
  });
  const server = await startAdminServer({ host: '127.0.0.1', port: 0 }, metrics);
  servers.push(server);
  return { metrics, port: server.address.port, advance: (ms: number) => (now += ms) };
}

describe('the admin endpoint', () => {
  it('serves the Rust health fields, with counters that move', async () => {
    const { metrics, port, advance } = await serve();
    const action = { actionType: 'tool_call', resource: 'read', agentId: 'a' };
    metrics.onDecision({
      action,
      decision: { type: 'allow', ruleId: 'allow-read' },
      evaluationMs: 0.002,
    });
    metrics.onDecision({
      action,
      decision: { type: 'deny', ruleId: '_default_deny' },
      evaluationMs: 0.001,
    });
    metrics.onDecision({
      action,
      decision: { type: 'require_approval', ruleId: 'r' },
      evaluationMs: 0,
    });
    metrics.onReport({ level: 'error', code: 'audit_failed', message: 'disk full' });
    advance(61_500);
    const health = await get(port, '/health');
    expect(health.status).toBe(200);
    expect(health.type).toBe('application/json');
    expect(JSON.parse(health.body)).toEqual({
      status: 'ok',
      uptime_secs: 61,
      policy_loaded: true,
      rules_count: 1,
      requests_evaluated: 3,
      requests_allowed: 1,
      requests_denied: 1,
      requests_approval: 1,
      version: '9.9.9',
      audit_failures: 1,
      sessions: 2,
      reloads: 0,
      reload_failures: 0,
    });
  });

  it('serves Prometheus text: decisions by effect and rule, an evaluation histogram', async () => {
    const { metrics, port } = await serve();
    const action = { actionType: 'tool_call', resource: 'read' };
    metrics.onDecision({
      action,
      decision: { type: 'allow', ruleId: 'allow-read' },
      evaluationMs: 0.002,
    });
    metrics.onDecision({
      action,
      decision: { type: 'allow', ruleId: 'allow-read' },
      evaluationMs: 0.02,
    });
    metrics.onDecision({
      action,
      decision: { type: 'deny', ruleId: 'say "no"\\' },
      evaluationMs: 0,
    });
    const { status, type, body } = await get(port, '/metrics');
    expect(status).toBe(200);
    expect(type).toContain('version=0.0.4');
    expect(body).toContain('kvlar_decisions_total{effect="allow",rule="allow-read"} 2\n');
    expect(body).toContain('kvlar_decisions_total{effect="deny",rule="say \\"no\\"\\\\"} 1\n');
    expect(body).toContain('kvlar_evaluation_seconds_bucket{le="0.0000025"} 1\n');
    expect(body).toContain('kvlar_evaluation_seconds_bucket{le="0.000025"} 2\n');
    expect(body).toContain('kvlar_evaluation_seconds_bucket{le="+Inf"} 2\n');
    expect(body).toContain('kvlar_evaluation_seconds_count 2\n');
    expect(body).toContain('kvlar_sessions 2\n');
  });

  it("serves the process's memory: resident, the V8 heap, and each heap space", async () => {
    const { port } = await serve();
    const { body } = await get(port, '/metrics');
    const gauge = (name: string) => {
      const match = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(body);
      if (match === null) throw new Error(`no ${name} in:\n${body}`);
      return Number(match[1]);
    };
    // This test's own process: the figures are its, within what it could have moved since.
    const rss = gauge('process_resident_memory_bytes');
    expect(rss).toBeGreaterThan(process.memoryUsage().heapUsed / 4);
    expect(rss).toBeLessThan(process.memoryUsage().rss * 2);
    expect(gauge('nodejs_heap_size_used_bytes')).toBeLessThanOrEqual(
      gauge('nodejs_heap_size_total_bytes'),
    );
    expect(gauge('nodejs_heap_space_size_total_bytes{space="new"}')).toBeGreaterThan(0);
    expect(gauge('nodejs_heap_space_size_used_bytes{space="old"}')).toBeGreaterThan(0);
    expect(body).toContain('# TYPE nodejs_heap_space_size_total_bytes gauge\n');
    expect(body).not.toContain('space="new_space"');
  });

  it('answers only requests addressed to it by name (DNS rebinding)', async () => {
    const { port } = await serve();
    expect((await get(port, '/health', { host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, '/health', { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(port, '/health', { host: `localhost:${port}` })).status).toBe(200);
  });

  it('is read-only and names what it serves', async () => {
    const { port } = await serve();
    expect((await get(port, '/health', {}, 'POST')).status).toBe(405);
    const missing = await get(port, '/approvals');
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('/health');
  });

  it('refuses to listen anywhere but loopback', async () => {
    const metrics = createMetrics({ version: '1', engine: () => engine });
    await expect(startAdminServer({ host: '0.0.0.0', port: 0 }, metrics)).rejects.toThrow(
      /loopback/,
    );
  });
});

describe('serverLabel', () => {
  it('names a server by what its launcher runs', async () => {
    const { serverLabel } = await import('../src/server-process.js');
    expect(
      serverLabel({
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
      }),
    ).toBe('server-filesystem');
    expect(
      serverLabel({
        command: '/usr/bin/node',
        args: ['--enable-source-maps', '/srv/mcp/index.js'],
      }),
    ).toBe('index.js');
    expect(serverLabel({ command: 'uvx', args: ['mcp-server-git'] })).toBe('mcp-server-git');
    expect(serverLabel({ command: 'C:\\\\tools\\\\npx.cmd', args: ['server-x'] })).toBe('server-x');
    expect(serverLabel({ command: '/opt/bin/my-server', args: ['--port', '1'] })).toBe('my-server');
  });
});

describe('the admin endpoint off loopback', () => {
  it('serves other machines only with the bearer token, on every path', async () => {
    const metrics = createMetrics({ version: '1', engine: () => engine });
    const token = 'a-long-enough-token-123';
    const server = await startAdminServer({ host: '0.0.0.0', port: 0 }, metrics, undefined, {
      token,
    });
    servers.push(server);
    const port = server.address.port;
    expect((await get(port, '/health', { host: `kvlar.example:${port}` })).status).toBe(401);
    expect(
      (await get(port, '/metrics', { authorization: 'Bearer wrong-token-000000' })).status,
    ).toBe(401);
    const health = await get(port, '/health', {
      host: `kvlar.example:${port}`,
      authorization: `Bearer ${token}`,
    });
    expect(health.status).toBe(200);
  });

  it('refuses a token shorter than 16 characters', async () => {
    const metrics = createMetrics({ version: '1', engine: () => engine });
    await expect(
      startAdminServer({ host: '0.0.0.0', port: 0 }, metrics, undefined, { token: 'short' }),
    ).rejects.toThrow(/16/);
  });
});

describe('round trips and pending approvals in /metrics', () => {
  it('times the server answers and counts its errors and the calls waiting', async () => {
    const metrics = createMetrics({
      version: '1',
      engine: () => engine,
      pendingApprovals: () => 3,
    });
    metrics.onAnswered({ method: 'tools/call', ok: true, roundTripMs: 3 });
    metrics.onAnswered({ method: 'tools/call', ok: false, roundTripMs: 700 });
    const text = metrics.prometheus();
    expect(text).toContain('kvlar_upstream_round_trip_seconds_bucket{le="0.005"} 1\n');
    expect(text).toContain('kvlar_upstream_round_trip_seconds_bucket{le="1"} 2\n');
    expect(text).toContain('kvlar_upstream_round_trip_seconds_count 2\n');
    expect(text).toContain('kvlar_upstream_errors_total 1\n');
    expect(text).toContain('kvlar_pending_approvals 3\n');
  });
});

describe('reloads in /health and /metrics', () => {
  it('counts good and refused reloads, and reports the rules of the engine now in force', async () => {
    let current = engine;
    const metrics = createMetrics({ version: '1', engine: () => current });
    metrics.onReload(true);
    metrics.onReload(false);
    current = engineFrom(`
name: p2
version: "2"
rules:
  - id: a
    match_on: { resources: [a] }
    effect: { type: allow }
  - id: b
    match_on: { resources: [b] }
    effect: { type: allow }
`);
    expect(metrics.health()).toMatchObject({ reloads: 1, reload_failures: 1, rules_count: 2 });
    const text = metrics.prometheus();
    expect(text).toContain('kvlar_policy_reloads_total{result="ok"} 1\n');
    expect(text).toContain('kvlar_policy_reloads_total{result="refused"} 1\n');
    expect(text).toContain('kvlar_rules 2\n');
  });
});

/** A socket to the admin port, and whether (and how soon) the server closed it. */
async function openSocket(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect(port, '127.0.0.1');
  const started = Date.now();
  const closed = new Promise<number>((resolve) => {
    socket.on('error', () => {});
    socket.on('close', () => resolve(Date.now() - started));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** Whether `closed` settles within `ms`. */
function within(closed: Promise<number>, ms: number): Promise<'closed' | 'still open'> {
  return Promise.race([
    closed.then(() => 'closed' as const),
    new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms)),
  ]);
}

describe('the admin endpoint under idle connections (any local user can connect)', () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it('closes a connection that says nothing, and one whose request trickles in', async () => {
    const metrics = createMetrics({ version: '1', engine: () => engine });
    const server = await startAdminServer({ host: '127.0.0.1', port: 0 }, metrics, undefined, {
      idleTimeoutMs: 300,
      requestTimeoutMs: 600,
    });
    servers.push(server);
    const port = server.address.port;
    const silent = await openSocket(port);
    const slow = await openSocket(port);
    sockets.push(silent.socket, slow.socket);
    // Never idle long enough for the idle timer: one header byte every 100 ms.
    slow.socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    const trickle = setInterval(() => slow.socket.write('a'), 100);
    try {
      expect(await within(silent.closed, 3000)).toBe('closed');
      expect(await within(slow.closed, 4000)).toBe('closed');
    } finally {
      clearInterval(trickle);
    }
    // It still serves whoever asks properly.
    expect((await get(port, '/health')).status).toBe(200);
  });

  it('keeps only so many connections: more are closed as they arrive', async () => {
    const metrics = createMetrics({ version: '1', engine: () => engine });
    const server = await startAdminServer({ host: '127.0.0.1', port: 0 }, metrics, undefined, {
      maxConnections: 4,
    });
    servers.push(server);
    const port = server.address.port;
    const kept = await Promise.all([1, 2, 3, 4].map(() => openSocket(port)));
    sockets.push(...kept.map(({ socket }) => socket));
    // Let the server count them before the next one arrives.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extra = await openSocket(port);
    sockets.push(extra.socket);
    expect(await within(extra.closed, 2000)).toBe('closed');
    for (const { closed } of kept) expect(await within(closed, 10)).toBe('still open');
    kept[0]?.socket.destroy();
    await kept[0]?.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await get(port, '/health')).status).toBe(200);
  });
});
