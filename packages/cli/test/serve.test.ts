import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, kvlar, lines, POLICY, tempDir } from './helpers.js';

interface Serve {
  readonly child: ChildProcessWithoutNullStreams;
  send(...requests: readonly (string | object)[]): void;
  /** Resolves with the next `count` answers, parsed. */
  answers(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  stderr(): string;
  /** Closes stdin and resolves with the exit code and everything left on stdout. */
  end(): Promise<{ code: number | null; rest: string }>;
}

const running: Serve[] = [];
afterEach(() => {
  for (const serve of running.splice(0)) serve.child.kill('SIGKILL');
});

function startServe(args: readonly string[], cwd: string): Serve {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  delete env.KVLAR_DEBUG;
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const serve: Serve = {
    child,
    send(...requests) {
      const text = requests
        .map((request) => (typeof request === 'string' ? request : JSON.stringify(request)))
        .join('\n');
      child.stdin.write(`${text}\n`);
    },
    answers(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          let taken = 0;
          let end = 0;
          while (taken < count) {
            const newline = stdout.indexOf('\n', end);
            if (newline === -1) return;
            end = newline + 1;
            taken++;
          }
          const text = stdout.slice(0, end);
          stdout = stdout.slice(end);
          finish();
          resolve(lines(text).map((line) => JSON.parse(line) as Record<string, unknown>));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out; stdout:\n${stdout.slice(0, 2000)}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    stderr: () => stderr,
    async end() {
      child.stdin.end();
      const code = await exited;
      return { code, rest: stdout };
    },
  };
  running.push(serve);
  return serve;
}

async function servePolicy(extra: readonly string[] = []): Promise<{ dir: string; serve: Serve }> {
  const dir = await tempDir({ 'policy.yaml': POLICY });
  return { dir, serve: startServe(['--stdio', '-p', 'policy.yaml', ...extra], dir) };
}

describe('kvlar serve --stdio', () => {
  it('answers each request in order, with the decision kvlar evaluate --json gives', async () => {
    const { dir, serve } = await servePolicy();
    serve.send(
      { id: 1, tool: 'read_file', arguments: { path: '/tmp/x' } },
      { id: 'two', tool: 'bash', arguments: { command: 'ls' } },
      { id: null, resource: 'write_file', parameters: { path: '/etc/hosts' } },
      { tool: 'write_file', arguments: { path: '/tmp/x' } },
    );
    const answers = await serve.answers(4);
    expect(answers.map((answer) => [answer.id, answer.decision, answer.rule_id])).toEqual([
      [1, 'allow', 'allow-read'],
      ['two', 'deny', 'deny-shell'],
      [null, 'require_approval', 'approve-write'],
      [null, 'deny', '_default_deny'],
    ]);
    const evaluated = await kvlar(
      [
        'evaluate',
        '-p',
        'policy.yaml',
        '--resource',
        'bash',
        '--args',
        '{"command":"ls"}',
        '--json',
      ],
      { cwd: dir },
    );
    expect(answers[1]).toEqual({ id: 'two', ...JSON.parse(evaluated.stdout) });
    expect(await serve.end()).toEqual({ code: 0, rest: '' });
  });

  it('takes the agent, the server, the action type and explain', async () => {
    const dir = await tempDir({
      'team.yaml': `name: team
version: "1"
rules:
  - id: interns
    match_on: { resources: [deploy], agent_ids: ["intern-*"] }
    effect: { type: deny, reason: no }
  - id: github
    match_on: { resources: [deploy], servers: [github] }
    effect: { type: allow }
  - id: reads
    match_on: { action_types: [resource_read] }
    effect: { type: allow }
`,
    });
    const serve = startServe(['--stdio', '--policy=team.yaml'], dir);
    serve.send(
      { id: 1, tool: 'deploy', agent_id: 'intern-bob', server: 'github' },
      { id: 2, tool: 'deploy', server: 'github' },
      { id: 3, tool: 'deploy' },
      { id: 4, tool: 'file:///x', action_type: 'resource_read' },
      { id: 5, tool: 'deploy', explain: true },
    );
    const answers = await serve.answers(5);
    expect(answers.slice(0, 4).map((answer) => answer.rule_id)).toEqual([
      'interns',
      'github',
      '_default_deny',
      'reads',
    ]);
    const trace = answers[4]?.trace as { rule_id: string; matched: boolean }[];
    expect(trace.map((rule) => rule.rule_id)).toEqual(['interns', 'github', 'reads']);
    expect(trace.some((rule) => rule.matched)).toBe(false);
  });

  it('answers ping and info: policies, hash, rules, version', async () => {
    const dir = await tempDir({
      'policy.yaml': POLICY,
      'extra.yaml':
        'name: extra\nversion: "2"\nrules:\n  - id: x\n    match_on: {}\n    effect: { type: allow }\n',
    });
    const serve = startServe(['--stdio', '-p', 'extra.yaml', '-p', 'policy.yaml'], dir);
    serve.send({ op: 'ping', id: 7 }, { op: 'info', id: 8 }, { id: 9, tool: 'bash' });
    const [pong, info, decision] = await serve.answers(3);
    expect(pong).toEqual({ id: 7, ok: true });
    expect(info).toMatchObject({
      id: 8,
      protocol: 1,
      policies: [
        { name: 'extra', version: '2', file: 'extra.yaml' },
        { name: 'my-policy', version: '1.0', file: 'policy.yaml' },
      ],
      rules: 4,
      reloads: 0,
    });
    expect(info?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(decision).toMatchObject({ decision: 'allow', rule_id: 'x', policy: 'extra' });
  });

  it('answers bad lines with an error, never a decision, and goes on', async () => {
    const { serve } = await servePolicy();
    serve.send(
      'not json {"id": 5',
      '[1, 2]',
      '"read_file"',
      { id: 1, tol: 'bash' },
      { id: 2 },
      { id: 3, tool: '' },
      { id: 4, tool: 7 },
      { id: 5, tool: 'bash', resource: 'bash' },
      { id: 6, tool: 'bash', arguments: [1] },
      { id: 7, tool: 'bash', arguments: null },
      { id: 8, tool: 'bash', agent_id: 3 },
      { id: 9, tool: 'bash', explain: 'yes' },
      { id: { nested: true }, tool: 'bash' },
      { id: 10, op: 'evaluat' },
      { id: 11, op: 'ping', tool: 'bash' },
      { id: 12, tool: 'read_file' },
    );
    const answers = await serve.answers(16);
    const errors = answers.slice(0, 15);
    for (const answer of errors) {
      expect(answer).not.toHaveProperty('decision');
      expect(answer.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    expect(errors.map((answer) => answer.id)).toEqual([
      5,
      null,
      null,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
      null,
      10,
      11,
    ]);
    const codes = errors.map((answer) => (answer.error as { code: string }).code);
    expect(codes[0]).toBe('invalid_json');
    expect(codes.slice(1).every((code) => code === 'invalid_request')).toBe(true);
    const messages = errors.map((answer) => (answer.error as { message: string }).message);
    expect(messages[3]).toBe('unknown key "tol" (did you mean "tool"?)');
    expect(messages[4]).toBe('missing "tool": the name of the tool being called');
    expect(messages[7]).toBe('"tool" and "resource" are the same field: give one of them');
    expect(messages[8]).toBe('"arguments" must be a JSON object of arguments, not an array');
    expect(messages[13]).toContain('(did you mean "evaluate"?)');
    expect(answers[15]).toMatchObject({ id: 12, decision: 'allow' });
    expect((await serve.end()).code).toBe(0);
  });

  it('refuses a line over the limit by its size, not its content, and goes on', async () => {
    const { serve } = await servePolicy(['--max-line-bytes', '1024']);
    const big = JSON.stringify({ id: 41, tool: 'bash', arguments: { blob: 'x'.repeat(5000) } });
    serve.send(big, { id: 42, tool: 'bash' });
    const [tooLarge, after] = await serve.answers(2);
    expect(tooLarge).toEqual({
      id: 41,
      error: {
        code: 'too_large',
        message: `the line has ${big.length} bytes, more than the limit of 1024`,
      },
    });
    expect(after).toMatchObject({ id: 42, decision: 'deny' });
  });

  it('refuses bytes that are not UTF-8 and JSON nested too deep', async () => {
    const { serve } = await servePolicy();
    serve.child.stdin.write(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]));
    serve.send(`{"id":1,"tool":"bash","arguments":{"a":${'['.repeat(300)}${']'.repeat(300)}}}`, {
      id: 2,
      tool: 'bash',
    });
    const [notUtf8, deep, after] = await serve.answers(3);
    expect(notUtf8?.error).toEqual({ code: 'invalid_json', message: 'the line is not UTF-8' });
    expect(deep).toMatchObject({ id: 1, error: { code: 'invalid_json' } });
    expect(after).toMatchObject({ id: 2, decision: 'deny' });
  });

  it('skips blank lines, accepts CRLF, and answers a last line without a newline at EOF', async () => {
    const { serve } = await servePolicy();
    serve.child.stdin.write('\n   \n{"id":1,"tool":"bash"}\r\n{"id":2,"tool":"read_x"}');
    const [first] = await serve.answers(1);
    expect(first).toMatchObject({ id: 1, decision: 'deny' });
    const { code, rest } = await serve.end();
    expect(code).toBe(0);
    expect(JSON.parse(rest)).toMatchObject({ id: 2, decision: 'allow' });
  });

  it('answers many pipelined requests in order', async () => {
    const { serve } = await servePolicy();
    const count = 20_000;
    const tools = ['read_file', 'bash', 'write_file'];
    const requests = Array.from({ length: count }, (_, id) => ({
      id,
      tool: tools[id % 3],
      arguments: { path: '/etc/hosts' },
    }));
    serve.send(...requests);
    const answers = await serve.answers(count, 20_000);
    expect(answers.map((answer) => answer.id)).toEqual(requests.map((request) => request.id));
    expect(answers.slice(0, 3).map((answer) => answer.decision)).toEqual([
      'allow',
      'deny',
      'require_approval',
    ]);
  });

  it('stops reading while its reader does not read, and loses nothing', async () => {
    const { serve } = await servePolicy();
    serve.child.stdout.pause();
    const count = 50_000;
    const line = `${JSON.stringify({ tool: 'bash', arguments: { command: 'x'.repeat(200) } })}\n`;
    // Far more answers than the pipes hold: kvlar must wait for `drain`, not buffer them all.
    serve.child.stdin.write(line.repeat(count));
    await new Promise((resolve) => setTimeout(resolve, 500));
    serve.child.stdout.resume();
    const answers = await serve.answers(count, 30_000);
    expect(answers).toHaveLength(count);
    expect(answers.every((answer) => answer.decision === 'deny')).toBe(true);
    expect((await serve.end()).code).toBe(0);
  });

  it('exits 1 with located problems before reading stdin when a policy is invalid', async () => {
    const dir = await tempDir({
      'policy.yaml': POLICY,
      'broken.yaml': POLICY.replace('resources: [bash]', 'resource: [bash]'),
    });
    const serve = startServe(['--stdio', '-p', 'policy.yaml', '-p', 'broken.yaml'], dir);
    serve.send({ id: 1, tool: 'bash' });
    const { code, rest } = await serve.end();
    expect(code).toBe(1);
    expect(rest).toBe('');
    expect(serve.stderr()).toMatch(
      /^broken\.yaml:13:7: error: rules\[1\]\.match_on\.resource: unknown key "resource"/m,
    );
  });

  it('is a usage error without --stdio, without a policy, or with a bad limit', async () => {
    const dir = await tempDir({ 'policy.yaml': POLICY });
    const noStdio = await kvlar(['serve', '-p', 'policy.yaml'], { cwd: dir });
    expect(noStdio.code).toBe(2);
    expect(noStdio.stderr).toContain("give '--stdio'");
    const noPolicy = await kvlar(['serve', '--stdio'], { cwd: dir });
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain("missing required flag '--policy'");
    const limit = await kvlar(['serve', '--stdio', '-p', 'policy.yaml', '--max-line-bytes', '10'], {
      cwd: dir,
    });
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--max-line-bytes must be a whole number of at least 1024');
  });

  it('with --watch, reloads an edited policy between requests and keeps the last good one', async () => {
    const { dir, serve } = await servePolicy(['--watch']);
    const policy = join(dir, 'policy.yaml');
    const save = async (text: string) => {
      await writeFile(`${policy}.tmp`, text);
      await rename(`${policy}.tmp`, policy);
    };
    const ask = async () => {
      serve.send({ tool: 'bash' }, { op: 'info' });
      const [decision, info] = await serve.answers(2);
      return { decision: decision?.decision, reloads: info?.reloads };
    };
    expect(await ask()).toEqual({ decision: 'deny', reloads: 0 });
    await save(POLICY.replace('resources: ["read_*"]', 'resources: ["read_*", bash]'));
    await until(() => serve.stderr().includes('policies reloaded'));
    expect(await ask()).toEqual({ decision: 'allow', reloads: 1 });

    await save(
      'name: broken\nversion: "1"\nrules:\n  - id: x\n    match_on: { resource: [bash] }\n',
    );
    await until(() => serve.stderr().includes('last good policy stays'));
    expect(serve.stderr()).toMatch(/policy\.yaml:5:\d+: error/);
    expect(await ask()).toEqual({ decision: 'allow', reloads: 1 });
    expect((await serve.end()).code).toBe(0);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
