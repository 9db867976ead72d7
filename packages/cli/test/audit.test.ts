import { spawn } from 'node:child_process';
import {
  appendFile,
  link,
  readdir,
  readFile,
  readlink,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { type AuditEntry, type AuditUpstream, createJsonlSink } from '@kvlar/audit';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { BIN, kvlar, lines, spawnKvlar, tempDir } from './helpers.js';

const BASE = Date.parse('2026-03-01T10:00:00.000Z');

function entry(resource: string, outcome: AuditEntry['outcome'], agent = 'claude'): AuditEntry {
  return {
    action_type: 'tool_call',
    resource,
    agent_id: agent,
    outcome,
    matched_rule: outcome === 'allowed' ? 'allow-read' : 'deny-shell',
    ...(outcome === 'allowed' ? {} : { reason: 'no shell, "ever"\n=SUM(A1)' }),
    parameters: { path: '/tmp/x' },
    session: 'session-1',
    server: resource === 'bash' ? 'shell' : 'filesystem',
    policy: { name: 'default', version: '1.0', hash: 'a'.repeat(64) },
  };
}

const ENTRIES: readonly AuditEntry[] = [
  entry('read_file', 'allowed'),
  entry('bash', 'denied'),
  entry('write_file', 'pending_approval', 'cursor'),
  entry('bash', 'denied'),
  entry('read_file', 'allowed'),
];

/** The result record of `decision`'s call (the fields the proxy keeps), with the server's answer. */
function result(decision: AuditEntry, callId: string, upstream: AuditUpstream): AuditEntry {
  const { action_type, resource, agent_id, outcome, matched_rule, session, server, policy } =
    decision;
  const call = { action_type, resource, agent_id, outcome, matched_rule, session, server, policy };
  return { ...call, call_id: callId, upstream };
}

const READ = entry('read_file', 'allowed');
const APPROVED: AuditEntry = {
  ...entry('write_file', 'allowed', 'cursor'),
  matched_rule: 'ask-writes',
  call_id: 'id-4',
  approval: { approver: 'alice', channel: 'webhook', decision: 'approved', latency_ms: 900 },
};

/** Four decisions (one an approval answer) and the results of the two forwarded calls: id-1 … id-6. */
const WITH_RESULTS: readonly AuditEntry[] = [
  READ,
  result(READ, 'id-1', { ok: true, duration_ms: 12 }),
  entry('bash', 'denied'),
  { ...entry('write_file', 'pending_approval', 'cursor'), matched_rule: 'ask-writes' },
  APPROVED,
  result(APPROVED, 'id-4', { ok: false, error: 'disk full', duration_ms: 40 }),
];

/** A real chained log written by the JSONL sink, one record a minute from 10:00. */
async function writeLog(
  dir: string,
  options: { maxBytes?: number; entries?: readonly AuditEntry[]; first?: number } = {},
): Promise<string[]> {
  const { entries = ENTRIES, first = 0, ...sinkOptions } = options;
  let tick = first;
  let id = first;
  const sink = await createJsonlSink({
    path: join(dir, 'audit.jsonl'),
    clock: () => new Date(BASE + 60_000 * tick++),
    ids: () => `id-${++id}`,
    ...sinkOptions,
  });
  for (const item of entries) await sink.write(item);
  await sink.close();
  return lines(await readFile(join(dir, 'audit.jsonl'), 'utf8'));
}

const RUST_LOG = `${[
  '{"id":"8c1f3a52-0d6e-4b7a-9f64-1c2d3e4f5a6b","timestamp":"2026-02-01T08:00:00.123456789Z","action_type":"tool_call","resource":"bash","agent_id":"mcp-agent","outcome":"denied","matched_rule":"deny-shell","reason":"Shell access blocked"}',
  '{"id":"9d2f3a52-0d6e-4b7a-9f64-1c2d3e4f5a6c","timestamp":"2026-02-01T09:30:00+00:00","action_type":"tool_call","resource":"read_file","agent_id":"mcp-agent","outcome":"allowed","matched_rule":"allow-read","parameters":{"path":"/etc/hosts"}}',
  'garbage that is not json',
].join('\n')}\n`;

describe('kvlar audit verify', () => {
  it('prints a one-line summary for an intact log', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', 'verify', 'audit.jsonl'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: '✓ Audit log intact: 5 records in 1 file, 1 chain\n',
      stderr: '',
    });
  });

  it('follows rotation from a directory', async () => {
    const dir = await tempDir();
    await writeLog(dir, { maxBytes: 1 });
    const files = await readdir(dir);
    expect(files.length).toBeGreaterThan(1);
    const result = await kvlar(['audit', 'verify', '.', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, chains: 1, records: 5 });
  });

  it('names the file and line of an edited record', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir);
    log[2] = log[2]!.replace('"cursor"', '"claude"');
    await writeFile(join(dir, 'audit.jsonl'), `${log.join('\n')}\n`);
    const result = await kvlar(['audit', 'verify', 'audit.jsonl'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'audit.jsonl:3: error: edited: the record was edited: its content does not match its hash\n',
    );
  });

  it('names the line after a deleted record, also in JSON', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir);
    log.splice(1, 1);
    await writeFile(join(dir, 'audit.jsonl'), `${log.join('\n')}\n`);
    const result = await kvlar(['audit', 'verify', 'audit.jsonl', '--json'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      records: 1,
      failure: { file: 'audit.jsonl', line: 2, reason: 'deleted' },
    });
    expect(result.stderr).toMatch(/^audit\.jsonl:2: error: deleted: /);
  });

  it('warns about a torn last line on stderr but still passes', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    await writeFile(join(dir, 'audit.jsonl'), '{"id":"half', { flag: 'a' });
    const result = await kvlar(['audit', 'verify', 'audit.jsonl'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('5 records');
    expect(result.stderr).toMatch(/^audit\.jsonl:6: warning: torn_line: /);
  });

  it('fails on a Rust-era log, which has no chain', async () => {
    const dir = await tempDir({ 'rust.jsonl': RUST_LOG });
    const result = await kvlar(['audit', 'verify', 'rust.jsonl'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^rust\.jsonl:1: error: invalid_record: /);
  });

  it('exits 1 for a missing file and for a directory without logs', async () => {
    const dir = await tempDir({ 'notes.txt': 'x' });
    const missing = await kvlar(['audit', 'verify', 'nope.jsonl'], { cwd: dir });
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: cannot read nope.jsonl: no such file or directory\n',
    });
    const empty = await kvlar(['audit', 'verify', '.'], { cwd: dir });
    expect(empty).toEqual({
      code: 1,
      stdout: '',
      stderr: 'warning: no .jsonl files found in .\n',
    });
  });

  it('is a usage error without a path or with two', async () => {
    const dir = await tempDir();
    const none = await kvlar(['audit', 'verify'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: missing argument <file|dir>');
    const two = await kvlar(['audit', 'verify', 'a', 'b'], { cwd: dir });
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("unexpected argument 'b'");
  });
});

describe('kvlar audit stats', () => {
  it('prints the Rust summary for a chained log', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', 'stats', '-f', 'audit.jsonl'], { cwd: dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Audit Log Summary
─────────────────
File:     audit.jsonl
Events:   5
Period:   2026-03-01 10:00 → 2026-03-01 10:04

Outcomes:
  Allowed:          2
  Denied:           2
  Pending Approval: 1

Top Resources:
  bash                 2
  read_file            2
  write_file           1

Top Agents:
  claude               4
  cursor               1
`);
  });

  it('summarises only what the Rust filters, --server and --kind keep', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const json = async (...flags: string[]) => {
      const result = await kvlar(['audit', 'stats', '-f', 'audit.jsonl', '--json', ...flags], {
        cwd: dir,
      });
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as {
        events: number;
        outcomes: Record<string, number>;
        first?: string;
        last?: string;
        agents: { name: string; count: number }[];
      };
    };
    const cursor = await json('--agent', 'cursor');
    expect(cursor).toMatchObject({
      events: 1,
      outcomes: { allowed: 0, denied: 0, pending_approval: 1 },
      agents: [{ name: 'cursor', count: 1 }],
    });
    const bash = await json('--server', 'shell', '--outcome', 'deny');
    expect(bash).toMatchObject({ events: 2, outcomes: { denied: 2 } });
    // 10:01 to 10:03, inclusive.
    const window = await json('--since', '2026-03-01T10:01:00Z', '--until', '2026-03-01T10:03:00Z');
    expect(window).toMatchObject({
      events: 3,
      first: '2026-03-01T10:01:00.000Z',
      last: '2026-03-01T10:03:00.000Z',
    });
    expect(await json('--resource', 'nothing-like-it')).toMatchObject({ events: 0 });
    const text = await kvlar(['audit', 'stats', '-f', 'audit.jsonl', '--agent', 'cursor'], {
      cwd: dir,
    });
    expect(text.stdout).toContain('Events:   1\n');
  });

  it.each([
    ['stats', ['--outcome', 'maybe'], "unknown outcome 'maybe'"],
    ['stats', ['--until', 'yesterday'], "--until 'yesterday' is not an RFC 3339 time"],
    ['tail', ['--since', '2026-03-01'], "--since '2026-03-01' is not an RFC 3339 time"],
    ['tail', ['--kind', 'everything'], "unknown kind 'everything'"],
  ])('audit %s refuses %j, naming the value', async (command, flags, message) => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', command, '-f', 'audit.jsonl', ...flags], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`error: ${message}`);
  });

  it('reads a Rust-era log and reports the lines it skipped', async () => {
    const dir = await tempDir({ 'rust.jsonl': RUST_LOG });
    const result = await kvlar(['audit', 'stats', '-f', 'rust.jsonl', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: skipped 1 line that is not an audit record (first: rust.jsonl:3: not JSON)\n',
    );
    expect(JSON.parse(result.stdout)).toEqual({
      file: 'rust.jsonl',
      files: ['rust.jsonl'],
      skipped: 1,
      events: 2,
      outcomes: { allowed: 1, denied: 1, pending_approval: 0 },
      first: '2026-02-01T08:00:00.123Z',
      last: '2026-02-01T09:30:00.000Z',
      resources: [
        { name: 'bash', count: 1 },
        { name: 'read_file', count: 1 },
      ],
      agents: [{ name: 'mcp-agent', count: 2 }],
      results: { ok: 0, error: 0 },
    });
  });

  it('counts result records apart from the decisions, in text and JSON', async () => {
    const dir = await tempDir();
    await writeLog(dir, { entries: WITH_RESULTS });
    const text = await kvlar(['audit', 'stats', '-f', 'audit.jsonl'], { cwd: dir });
    expect(text).toEqual({
      code: 0,
      stdout: `Audit Log Summary
─────────────────
File:     audit.jsonl
Events:   4
Period:   2026-03-01 10:00 → 2026-03-01 10:05

Outcomes:
  Allowed:          2
  Denied:           1
  Pending Approval: 1

Upstream Results:
  OK:               1
  Error:            1
  Duration:         p50 12ms, max 40ms

Top Resources:
  write_file           2
  bash                 1
  read_file            1

Top Agents:
  claude               2
  cursor               2
`,
      stderr: '',
    });
    const json = await kvlar(['audit', 'stats', '-f', 'audit.jsonl', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout)).toMatchObject({
      events: 4,
      outcomes: { allowed: 2, denied: 1, pending_approval: 1 },
      last: '2026-03-01T10:05:00.000Z',
      results: { ok: 1, error: 1, p50_ms: 12, max_ms: 40 },
    });
  });

  it('skips a record with a malformed upstream, saying so, instead of counting a decision', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir, { entries: WITH_RESULTS });
    log[1] = log[1]!.replace('"upstream":{"duration_ms":12,"ok":true}', '"upstream":{"ok":1}');
    await writeFile(join(dir, 'audit.jsonl'), `${log.join('\n')}\n`);
    const result = await kvlar(['audit', 'stats', '-f', 'audit.jsonl', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'warning: skipped 1 line that is not an audit record (first: audit.jsonl:2: upstream is not {ok: boolean, duration_ms: number >= 0, error?: string})\n',
    );
    expect(JSON.parse(result.stdout)).toMatchObject({
      skipped: 1,
      events: 4,
      results: { ok: 0, error: 1 },
    });
  });

  it('says so for an empty log', async () => {
    const dir = await tempDir({ 'empty.jsonl': '' });
    const result = await kvlar(['audit', 'stats', '-f', 'empty.jsonl'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: 'No audit events found in empty.jsonl\n',
      stderr: '',
    });
  });
});

describe('kvlar audit export', () => {
  it('writes the records as stored by default, so the export still verifies', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir);
    const result = await kvlar(['audit', 'export', '-f', 'audit.jsonl'], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: `${log.join('\n')}\n`, stderr: '' });
  });

  it('filters by outcome alias, resource, agent, server and time', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const run = async (...flags: string[]) => {
      const result = await kvlar(['audit', 'export', '-f', 'audit.jsonl', ...flags], { cwd: dir });
      expect(result.code).toBe(0);
      return lines(result.stdout).map((line) => (JSON.parse(line) as { id: string }).id);
    };
    expect(await run('--outcome', 'deny')).toEqual(['id-2', 'id-4']);
    expect(await run('--resource', 'file', '--agent', 'clau')).toEqual(['id-1', 'id-5']);
    expect(await run('--server', 'shell')).toEqual(['id-2', 'id-4']);
    expect(await run('--kind', 'decisions')).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5']);
    expect(await run('--kind', 'results')).toEqual([]);
    expect(
      await run('--since', '2026-03-01T10:01:00Z', '--until', '2026-03-01T11:03:00+01:00'),
    ).toEqual(['id-2', 'id-3', 'id-4']);
  });

  it('writes csv to a file atomically and says how many events on stderr', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(
      [
        'audit',
        'export',
        '-f',
        'audit.jsonl',
        '--format',
        'csv',
        '-o',
        'out.csv',
        '--outcome',
        'denied',
      ],
      { cwd: dir },
    );
    expect(result).toEqual({ code: 0, stdout: '', stderr: '✓ Exported 2 events (CSV format)\n' });
    const csv = await readFile(join(dir, 'out.csv'), 'utf8');
    const row =
      'tool_call,bash,claude,denied,deny-shell,"no shell, ""ever""\n=SUM(A1)",shell,session-1,,,,';
    expect(csv).toBe(
      'id,timestamp,action_type,resource,agent_id,outcome,matched_rule,reason,server,session,call_id,upstream_ok,upstream_error,duration_ms\r\n' +
        `id-2,2026-03-01T10:01:00.000Z,${row}\r\n` +
        `id-4,2026-03-01T10:03:00.000Z,${row}\r\n`,
    );
    expect((await readdir(dir)).sort()).toEqual(['audit.jsonl', 'out.csv']);
  });

  it('exports CEF with the Rust severities, from a Rust-era log too', async () => {
    const dir = await tempDir({ 'rust.jsonl': RUST_LOG });
    const result = await kvlar(['audit', 'export', '-f', 'rust.jsonl', '--format', 'cef'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('skipped 1 line');
    const cef = lines(result.stdout);
    expect(cef).toHaveLength(2);
    expect(cef[0]).toMatch(
      /^CEF:0\|Kvlar\|PolicyEngine\|\d+\.\d+\.\d+\|denied\|tool_call\/bash\|8\|rt=/,
    );
    expect(cef[1]).toMatch(/\|allowed\|tool_call\/read_file\|1\|/);
  });

  it('exports only the result records with --kind results, in csv and CEF', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir, { entries: WITH_RESULTS });
    const run = async (...flags: string[]) => {
      const result = await kvlar(['audit', 'export', '-f', 'audit.jsonl', ...flags], { cwd: dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return lines(result.stdout);
    };
    expect(await run('--kind', 'results')).toEqual([log[1], log[5]]);
    expect(await run('--kind', 'decisions', '--outcome', 'allowed')).toEqual([log[0], log[4]]);
    expect((await run('--kind', 'results', '--format', 'csv')).join('\n')).toBe(
      [
        'id,timestamp,action_type,resource,agent_id,outcome,matched_rule,reason,server,session,call_id,upstream_ok,upstream_error,duration_ms\r',
        'id-2,2026-03-01T10:01:00.000Z,tool_call,read_file,claude,allowed,allow-read,,filesystem,session-1,id-1,true,,12\r',
        'id-6,2026-03-01T10:05:00.000Z,tool_call,write_file,cursor,allowed,ask-writes,,filesystem,session-1,id-4,false,disk full,40\r',
      ].join('\n'),
    );
    const cef = await run('--kind', 'results', '--format', 'cef');
    expect(cef[0]).toMatch(
      /\|upstream_ok\|tool_call\/read_file\|1\|rt=1772359260000 externalId=id-2 /,
    );
    expect(cef[0]).toMatch(/ cs4=id-1 cs4Label=callId cn1=12 cn1Label=durationMs msg=$/);
    expect(cef[1]).toMatch(/\|upstream_error\|tool_call\/write_file\|3\|/);
    expect(cef[1]).toMatch(/ cs4=id-4 cs4Label=callId cn1=40 cn1Label=durationMs msg=disk full$/);
  });

  it('refuses bad flag values, listing the valid ones', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const cases: [string[], string][] = [
      [['--format', 'xml'], "unknown format 'xml' (use one of: jsonl, csv, cef)"],
      [
        ['--outcome', 'maybe'],
        "unknown outcome 'maybe' (use one of: allowed, denied, pending_approval)",
      ],
      [['--since', '2026-03-01'], "--since '2026-03-01' is not an RFC 3339 time"],
      [['--kind', 'result'], "unknown kind 'result' (use one of: decisions, results)"],
    ];
    for (const [flags, message] of cases) {
      const result = await kvlar(['audit', 'export', '-f', 'audit.jsonl', ...flags], { cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`error: ${message}`);
    }
  });

  it('refuses to overwrite the log it reads', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir);
    const result = await kvlar(['audit', 'export', '-f', '.', '-o', 'audit.jsonl'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refusing to overwrite the audit log audit.jsonl');
    expect(lines(await readFile(join(dir, 'audit.jsonl'), 'utf8'))).toEqual(log);
  });
});

describe('kvlar audit export, safely', () => {
  it('refuses to replace the log it reads under another name: a linked directory, a symlink, a hard link', async () => {
    const dir = await tempDir();
    const log = await writeLog(dir);
    await symlink(dir, join(dir, 'linked-dir'));
    await symlink('audit.jsonl', join(dir, 'alias.jsonl'));
    await link(join(dir, 'audit.jsonl'), join(dir, 'hard.jsonl'));
    for (const output of ['linked-dir/audit.jsonl', 'alias.jsonl', 'hard.jsonl']) {
      const result = await kvlar(
        ['audit', 'export', '-f', 'audit.jsonl', '--outcome', 'denied', '-o', output],
        { cwd: dir },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `refusing to overwrite the audit log ${output} with its export`,
      );
      expect(lines(await readFile(join(dir, 'audit.jsonl'), 'utf8'))).toEqual(log);
    }
  });

  it('writes an export only its owner can read, as the log is', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', 'export', '-f', 'audit.jsonl', '-o', 'out.jsonl'], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect((await stat(join(dir, 'out.jsonl'))).mode & 0o777).toBe(0o600);
  });

  it('escapes control characters for a terminal, and gives a pipe the exact bytes', async () => {
    const dir = await tempDir();
    const forged = 'x\u001b[1A\u001b[2K\r\nid-9,forged';
    await writeLog(dir, { entries: [entry(forged, 'denied', 'agent\u202e')] });
    const run = async (tty: boolean, format: string) => {
      let stdout = '';
      const code = await main(['audit', 'export', '-f', 'audit.jsonl', '--format', format], {
        cwd: dir,
        env: {},
        stdout: { isTTY: tty, write: (text: string) => (stdout += text) },
        stderr: { isTTY: tty, write: () => true },
      });
      expect(code).toBe(0);
      return stdout;
    };
    for (const format of ['csv', 'cef', 'jsonl']) {
      const shown = await run(true, format);
      // Only the format's own line ends are left: no escape, no bidi override, no bare CR.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
      expect(shown.replace(/\r?\n/g, '')).not.toMatch(/[\u0000-\u001f\u202e]/);
      expect(shown).toContain('x\\u001b[1A\\u001b[2K');
      expect(shown).toContain('agent\\u202e');
      const piped = await run(false, format);
      expect(piped).toContain('agent\u202e');
      // JSON escapes control characters itself; CSV and CEF carry them as recorded.
      if (format !== 'jsonl') expect(piped).toContain('x\u001b[1A\u001b[2K');
    }
    // Each row of the terminal's CSV is one record, ending CRLF as in the file; the cell's own
    // line break is shown escaped instead of starting a forged row.
    expect(await run(false, 'csv')).toContain('\r\nid-9,forged"');
    expect((await run(true, 'csv')).split('\r\n')).toHaveLength(3);
  });
});

describe('kvlar audit tail', () => {
  const count = (n: number) => (stdout: string) => lines(stdout).length >= n;

  it('prints the last N records in the human format', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', 'tail', '-f', 'audit.jsonl', '-n', '2'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: [
        '2026-03-01T10:03:00.000Z  DENY      shell/bash  agent=claude  rule=deny-shell  — no shell, "ever"\\u000a=SUM(A1)',
        '2026-03-01T10:04:00.000Z  ALLOW     filesystem/read_file  agent=claude  rule=allow-read',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('prints the last N of the records the filters keep', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(
      ['audit', 'tail', '-f', 'audit.jsonl', '-n', '5', '--agent', 'claude', '--outcome', 'denied'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    expect(lines(result.stdout).map((line) => line.slice(0, 46))).toEqual([
      '2026-03-01T10:01:00.000Z  DENY      shell/bash',
      '2026-03-01T10:03:00.000Z  DENY      shell/bash',
    ]);
    const since = await kvlar(
      ['audit', 'tail', '-f', 'audit.jsonl', '--json', '--since', '2026-03-01T10:04:00Z'],
      { cwd: dir },
    );
    expect(lines(since.stdout).map((line) => JSON.parse(line).timestamp)).toEqual([
      '2026-03-01T10:04:00.000Z',
    ]);
  });

  it('prints the stored JSON lines with --json, across rotated files', async () => {
    const dir = await tempDir();
    await writeLog(dir, { maxBytes: 1 });
    const all = [];
    for (const file of (await readdir(dir)).sort()) {
      if (file !== 'audit.jsonl') all.push(...lines(await readFile(join(dir, file), 'utf8')));
    }
    all.push(...lines(await readFile(join(dir, 'audit.jsonl'), 'utf8').catch(() => '')));
    expect(all).toHaveLength(5);
    const result = await kvlar(['audit', 'tail', '-f', '.', '--json', '-n', '3'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual(all.slice(-3));
  });

  it('prints Rust-era records and reports lines that are not records', async () => {
    const dir = await tempDir({ 'rust.jsonl': RUST_LOG });
    const result = await kvlar(['audit', 'tail', '-f', 'rust.jsonl'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(lines(result.stdout)).toEqual([
      '2026-02-01T08:00:00.123456789Z  DENY      bash  agent=mcp-agent  rule=deny-shell  — Shell access blocked',
      '2026-02-01T09:30:00+00:00  ALLOW     read_file  agent=mcp-agent  rule=allow-read',
    ]);
    expect(result.stderr).toMatch(/skipped 1 line that is not an audit record/);
  });

  it('labels results RESULT, and shows only decisions or only results with --kind', async () => {
    const dir = await tempDir();
    await writeLog(dir, { entries: WITH_RESULTS });
    const tail = async (...flags: string[]) => {
      const result = await kvlar(['audit', 'tail', '-f', 'audit.jsonl', ...flags], { cwd: dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return lines(result.stdout);
    };
    expect(await tail('-n', '2')).toEqual([
      '2026-03-01T10:04:00.000Z  ALLOW     filesystem/write_file  agent=cursor  rule=ask-writes  [approval approved by alice via webhook, 900ms]',
      '2026-03-01T10:05:00.000Z  RESULT    filesystem/write_file  agent=cursor  rule=ask-writes  [upstream error: disk full, 40ms]',
    ]);
    expect(await tail('--kind', 'results', '-n', '1', '--json')).toEqual(
      (await tail('-n', '1', '--json')).slice(-1),
    );
    expect(await tail('--kind', 'results')).toEqual([
      '2026-03-01T10:01:00.000Z  RESULT    filesystem/read_file  agent=claude  rule=allow-read  [upstream ok, 12ms]',
      '2026-03-01T10:05:00.000Z  RESULT    filesystem/write_file  agent=cursor  rule=ask-writes  [upstream error: disk full, 40ms]',
    ]);
    const decisions = await tail('--kind', 'decisions', '-n', '2');
    expect(decisions.map((line) => line.slice(0, 34))).toEqual([
      '2026-03-01T10:03:00.000Z  APPROVAL',
      '2026-03-01T10:04:00.000Z  ALLOW   ',
    ]);
    const bad = await kvlar(['audit', 'tail', '-f', 'audit.jsonl', '--kind', 'all'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error: unknown kind 'all' (use one of: decisions, results)");
  });

  it('rejects a count that is not a whole number', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const result = await kvlar(['audit', 'tail', '-f', 'audit.jsonl', '-n', '-1'], { cwd: dir });
    expect(result.code).toBe(2);
  });

  it('follows records appended to the log, and stops on SIGINT with exit 0', async () => {
    const dir = await tempDir();
    const before = await writeLog(dir);
    const tail = spawnKvlar(['audit', 'tail', '-f', 'audit.jsonl', '--follow', '--json'], {
      cwd: dir,
    });
    try {
      await tail.waitFor(count(5));
      const after = await writeLog(dir, { entries: ENTRIES.slice(0, 2), first: 5 });
      expect(after).toHaveLength(7);
      await tail.waitFor(count(7));
    } finally {
      const result = await tail.stop('SIGINT');
      expect(result.code).toBe(0);
      expect(lines(result.stdout)).toEqual([
        ...before,
        ...lines(await readFile(join(dir, 'audit.jsonl'), 'utf8')).slice(5),
      ]);
    }
  });

  it.skipIf(process.platform !== 'linux')(
    'stops with exit 0 on a SIGTERM that comes while it is still reading the log',
    async () => {
      const dir = await tempDir();
      const log = join(dir, 'audit.jsonl');
      // Large enough that reading it takes a while: the signal lands before polling starts.
      const line = `${RUST_LOG.split('\n')[1]}\n`;
      await writeFile(log, line.repeat(200_000));
      const child = spawn(process.execPath, [BIN, 'audit', 'tail', '-f', log, '--follow'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on('close', (code, signal) => resolve([code, signal])),
      );
      // Wait until it has the log open, then stop it.
      const opened = async (): Promise<boolean> => {
        const fds = await readdir(`/proc/${child.pid}/fd`).catch(() => []);
        for (const fd of fds) {
          const target = await readlink(`/proc/${child.pid}/fd/${fd}`).catch(() => '');
          if (target === log) return true;
        }
        return false;
      };
      const deadline = Date.now() + 10_000;
      while (!(await opened())) {
        if (Date.now() > deadline) throw new Error('kvlar audit tail never opened the log');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      child.kill('SIGTERM');
      expect(await exited).toEqual([0, null]);
    },
    30_000,
  );

  it('follows the log across rotations without losing or repeating a record', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const tail = spawnKvlar(['audit', 'tail', '-f', 'audit.jsonl', '-F', '-n', '100', '--json'], {
      cwd: dir,
    });
    try {
      await tail.waitFor(count(5));
      await writeLog(dir, { entries: ENTRIES, first: 5, maxBytes: 1 });
      expect((await readdir(dir)).length).toBeGreaterThan(2);
      await tail.waitFor(count(10));
      // Give a repeated record the time to show up.
      await new Promise((resolve) => setTimeout(resolve, 600));
    } finally {
      const result = await tail.stop();
      expect(result.code).toBe(0);
      const ids = lines(result.stdout).map((line) => (JSON.parse(line) as { id: string }).id);
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `id-${i + 1}`));
    }
  });

  it('holds a line written in two halves until its newline, then prints it once', async () => {
    const dir = await tempDir();
    await writeLog(dir);
    const other = await tempDir();
    const [line] = await writeLog(other, { entries: ENTRIES.slice(1, 2), first: 42 });
    const tail = spawnKvlar(['audit', 'tail', '-f', 'audit.jsonl', '-F', '--json'], { cwd: dir });
    try {
      await tail.waitFor(count(5));
      await appendFile(join(dir, 'audit.jsonl'), line!.slice(0, 40));
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(lines(await tail.waitFor(() => true))).toHaveLength(5);
      await appendFile(join(dir, 'audit.jsonl'), `${line!.slice(40)}\n`);
      await tail.waitFor(count(6));
    } finally {
      const result = await tail.stop();
      expect(result.code).toBe(0);
      expect(lines(result.stdout).slice(5)).toEqual([line]);
    }
  });
});
