import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { BIN, kvlar, POLICY, tempDir, writeFiles } from './helpers.js';

const FIXTURES = new URL('./fixtures/wrap/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');

type Json = Record<string, unknown>;

interface Sandbox {
  readonly home: string;
  readonly project: string;
  readonly policy: string;
  readonly env: Record<string, string>;
  run(args: readonly string[], env?: Record<string, string>): ReturnType<typeof kvlar>;
  /** Writes `text` at `path` (relative to the sandbox root: `home/…` or `project/…`). */
  put(path: string, text: string): Promise<string>;
}

/** A home directory with a policy in ~/.kvlar, a project directory to run in, and an env for them. */
async function sandbox(): Promise<Sandbox> {
  const root = await tempDir();
  const home = join(root, 'home');
  const project = join(root, 'project');
  const policy = join(home, '.kvlar', 'policy.yaml');
  await writeFiles(root, { 'home/.kvlar/policy.yaml': POLICY, 'project/README.md': '' });
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    KVLAR_HOME: join(home, '.kvlar'),
    CLAUDE_CONFIG_DIR: home,
    KVLAR_WRAP_COMMAND: 'kvlar',
  };
  return {
    home,
    project,
    policy,
    env,
    run: (args, extra = {}) => kvlar(args, { cwd: project, env: { ...env, ...extra } }),
    put: async (path, text) => {
      const file = join(root, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      return file;
    },
  };
}

function servers(document: Json, client: string): [string, Json][] {
  const found: [string, Json][] = [];
  const add = (container: unknown, prefix: string) => {
    if (typeof container !== 'object' || container === null) return;
    for (const [name, entry] of Object.entries(container)) found.push([`${prefix}${name}`, entry]);
  };
  if (client === 'vscode') add(document.servers, '');
  else add(document.mcpServers, '');
  if (client === 'claude-code' && typeof document.projects === 'object') {
    for (const [path, project] of Object.entries(document.projects as Record<string, Json>)) {
      add(project.mcpServers, `${path}:`);
    }
  }
  return found;
}

/**
 * What wrap must have done to one document: each named server runs kvlar with the Rust argument
 * list plus --server-name, with every other field as it was and in the same order; every other
 * server and every other part of the document is unchanged.
 */
function expectWrapped(
  before: Json,
  after: Json,
  client: string,
  wrapped: readonly string[],
  policy: string,
) {
  const old = new Map(servers(before, client));
  const now = new Map(servers(after, client));
  expect([...now.keys()]).toEqual([...old.keys()]);
  for (const [key, entry] of old) {
    const next = now.get(key)!;
    if (!wrapped.includes(key)) {
      expect(next).toEqual(entry);
      continue;
    }
    const name = key.slice(key.lastIndexOf(':') + 1);
    expect(next.command).toBe('kvlar');
    expect(next.args).toEqual([
      'proxy',
      '--stdio',
      '--policy',
      policy,
      '--server-name',
      name,
      '--',
      entry.command,
      ...((entry.args as string[] | undefined) ?? []),
    ]);
    const keys = Object.keys(entry);
    const expectedKeys = keys.includes('args')
      ? keys
      : keys.flatMap((k) => (k === 'command' ? ['command', 'args'] : [k]));
    expect(Object.keys(next)).toEqual(expectedKeys);
    const { command: _c, args: _a, ...rest } = entry;
    const { command: _c2, args: _a2, ...nextRest } = next;
    expect(nextRest).toEqual(rest);
  }
  // Outside the servers, nothing moved.
  const strip = (document: Json) =>
    JSON.parse(
      JSON.stringify(document, (_key, value) => (value?.command !== undefined ? null : value)),
    );
  expect(strip(after)).toEqual(strip(before));
}

interface ClientCase {
  readonly label: string;
  readonly client: string;
  readonly path: string;
  readonly fixture: string;
  readonly flags: readonly string[];
  readonly wrapped: readonly string[];
  readonly remote: readonly string[];
}

const CASES: readonly ClientCase[] = [
  {
    label: 'Claude Desktop',
    client: 'claude-desktop',
    path: 'home/.config/Claude/claude_desktop_config.json',
    fixture: 'claude_desktop_config.txt',
    flags: [],
    wrapped: ['filesystem', 'github', 'sqlite', 'weather'],
    remote: [],
  },
  {
    label: 'Claude Desktop where the Rust kvlar looked',
    client: 'claude-desktop',
    path: 'home/.config/claude/claude_desktop_config.json',
    fixture: 'claude_desktop_config.txt',
    flags: [],
    wrapped: ['filesystem', 'github', 'sqlite', 'weather'],
    remote: [],
  },
  {
    label: 'Cursor (user)',
    client: 'cursor',
    path: 'home/.cursor/mcp.json',
    fixture: 'cursor-mcp.txt',
    flags: [],
    wrapped: ['postgres', 'memory'],
    remote: ['linear', 'context7'],
  },
  {
    label: 'Cursor (project)',
    client: 'cursor',
    path: 'project/.cursor/mcp.json',
    fixture: 'cursor-mcp.txt',
    flags: ['--scope', 'project'],
    wrapped: ['postgres', 'memory'],
    remote: ['linear', 'context7'],
  },
  {
    label: 'VS Code (user)',
    client: 'vscode',
    path: 'home/.config/Code/User/mcp.json',
    fixture: 'vscode-mcp.txt',
    flags: [],
    wrapped: ['Perplexity', 'fetch', 'node-server'],
    remote: ['github', 'legacy-sse'],
  },
  {
    label: 'VS Code (workspace)',
    client: 'vscode',
    path: 'project/.vscode/mcp.json',
    fixture: 'vscode-mcp.txt',
    flags: ['--scope', 'project'],
    wrapped: ['Perplexity', 'fetch', 'node-server'],
    remote: ['github', 'legacy-sse'],
  },
  {
    label: 'Windsurf',
    client: 'windsurf',
    path: 'home/.codeium/windsurf/mcp_config.json',
    fixture: 'windsurf-mcp_config.txt',
    flags: [],
    wrapped: ['brave-search', 'git'],
    remote: ['figma'],
  },
  {
    label: 'Claude Code (user, ~/.claude.json)',
    client: 'claude-code',
    path: 'home/.claude.json',
    fixture: 'claude-code-user.txt',
    flags: [],
    wrapped: ['sentry', '/home/me/app:playwright'],
    remote: ['notion'],
  },
  {
    label: 'Claude Code (project, .mcp.json)',
    client: 'claude-code',
    path: 'project/.mcp.json',
    fixture: 'claude-code-project.txt',
    flags: ['--scope', 'project'],
    wrapped: ['shared-db'],
    remote: ['api'],
  },
];

describe.each(CASES)('kvlar wrap / unwrap: $label', (test) => {
  it('wraps every local server, then unwrap gives back the original bytes', async () => {
    const box = await sandbox();
    const original = fixture(test.fixture);
    const file = await box.put(test.path, original);

    const wrap = await box.run(['wrap', '--client', test.client, ...test.flags, '--json']);
    expect(wrap.stderr).toBe('');
    expect(wrap.code).toBe(0);
    const report = JSON.parse(wrap.stdout);
    expect(report.files).toHaveLength(1);
    expect(report.files[0]).toMatchObject({
      file,
      client: test.client,
      changed: true,
      written: true,
    });
    const statuses = Object.fromEntries(
      report.files[0].servers.map((server: Json) => [
        (server.location as string[]).length === 4
          ? `${(server.location as string[])[1]}:${server.name}`
          : server.name,
        server.status,
      ]),
    );
    for (const name of test.wrapped) expect(statuses[name]).toBe('wrapped');
    for (const name of test.remote) expect(statuses[name]).toBe('remote');

    const wrapped = await readFile(file, 'utf8');
    expectWrapped(parse(original), parse(wrapped), test.client, test.wrapped, box.policy);
    // The backup is the original, byte for byte.
    expect(await readFile(report.files[0].backup, 'utf8')).toBe(original);

    const unwrap = await box.run(['unwrap', '--client', test.client, ...test.flags]);
    expect(unwrap.stderr).toBe('');
    expect(unwrap.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('keeps CRLF line ends and tab indentation through wrap and unwrap', async () => {
    const box = await sandbox();
    const original = fixture(test.fixture)
      .replace(/^( {2})+/gm, (spaces) => '\t'.repeat(spaces.length / 2))
      .replace(/\n/g, '\r\n');
    const file = await box.put(test.path, original);
    expect((await box.run(['wrap', '--client', test.client, ...test.flags])).code).toBe(0);
    const wrapped = await readFile(file, 'utf8');
    expect(wrapped.replace(/\r\n/g, '')).not.toContain('\n');
    expect(wrapped).not.toMatch(/^ +"/m);
    expectWrapped(parse(original), parse(wrapped), test.client, test.wrapped, box.policy);
    expect((await box.run(['unwrap', '--client', test.client, ...test.flags])).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(original);
  });
});

describe('kvlar wrap', () => {
  it('prints what it did, per server, and where the backup is', async () => {
    const box = await sandbox();
    await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    const result = await box.run(['wrap']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `Cursor (user): ${join(box.home, '.cursor/mcp.json')}`,
        '  ✓ postgres: wrapped (npx -y @modelcontextprotocol/server-postgres postgresql://localhost/mydb)',
        '  - linear: remote server (url), skipping',
        '  - context7: remote server (url), skipping',
        '  ✓ memory: wrapped (npx)',
        `  Backed up to ${join(box.home, '.cursor/mcp.pre-kvlar.json')}`,
        '✓ Wrapped 2 of 4 servers. Restart Cursor to apply.',
        '',
      ].join('\n'),
    );
  });

  it('changes nothing when run twice', async () => {
    const box = await sandbox();
    const file = await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    expect((await box.run(['wrap'])).code).toBe(0);
    const once = await readFile(file);
    const mtime = statSync(file).mtimeMs;
    const again = await box.run(['wrap']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('  ~ postgres: already wrapped, skipping');
    expect(again.stdout).toContain('✓ Nothing to wrap: 2 already wrapped, 2 remote.');
    expect(again.stdout).not.toContain('Backed up');
    expect(await readFile(file)).toEqual(once);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readdirSync(dirname(file)).sort()).toEqual(['mcp.json', 'mcp.pre-kvlar.json']);
  });

  it('--dry-run prints a unified diff and writes nothing', async () => {
    const box = await sandbox();
    const original = fixture('claude_desktop_config.txt');
    const file = await box.put('home/.config/Claude/claude_desktop_config.json', original);
    const result = await box.run(['wrap', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '  ✓ weather: would wrap (/Users/me/.local/bin/weather-server)',
    );
    expect(result.stdout).toContain(`--- ${file}\n+++ ${file}\n@@ `);
    expect(result.stdout).toContain('\n-      "command": "npx",\n+      "command": "kvlar",\n');
    expect(result.stdout).toContain(
      'Dry run: would wrap 4 of 4 servers; nothing written. Run without --dry-run to apply.',
    );
    expect(await readFile(file, 'utf8')).toBe(original);
    expect(readdirSync(dirname(file))).toEqual(['claude_desktop_config.json']);

    const json = JSON.parse((await box.run(['wrap', '--dry-run', '--json'])).stdout);
    expect(json.dry_run).toBe(true);
    expect(json.files[0]).toMatchObject({ changed: true, written: false, backup: null });
    expect(json.files[0].diff).toContain('+      "command": "kvlar",');
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('leaves an invalid file untouched and says where it is broken', async () => {
    const box = await sandbox();
    const broken =
      '{\n  "mcpServers": {\n    "a": { "command": "x" }\n    "b": { "command": "y" }\n  }\n}\n';
    const file = await box.put('home/.cursor/mcp.json', broken);
    const result = await box.run(['wrap', '--client', 'cursor']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `${file}:4:5: error: invalid JSON: expected ','; file left as it was\n`,
    );
    expect(await readFile(file, 'utf8')).toBe(broken);
    expect(readdirSync(dirname(file))).toEqual(['mcp.json']);
  });

  it('never overwrites an older backup', async () => {
    const box = await sandbox();
    const first = fixture('cursor-mcp.txt');
    const file = await box.put('home/.cursor/mcp.json', first);
    const older = await box.put('home/.cursor/mcp.pre-kvlar.json', '{"mcpServers": {}}\n');
    const result = await box.run(['wrap']);
    expect(result.code).toBe(0);
    const backup = join(box.home, '.cursor/mcp.pre-kvlar.2.json');
    expect(result.stdout).toContain(`  Backed up to ${backup}\n`);
    expect(await readFile(older, 'utf8')).toBe('{"mcpServers": {}}\n');
    expect(await readFile(backup, 'utf8')).toBe(first);

    // Unwrap, then wrap again: the backup of these very bytes is reused, not multiplied.
    expect((await box.run(['unwrap'])).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(first);
    const again = await box.run(['wrap']);
    expect(again.stdout).toContain(`  Backed up to ${backup}\n`);
    expect(readdirSync(dirname(file)).sort()).toEqual([
      'mcp.json',
      'mcp.pre-kvlar.2.json',
      'mcp.pre-kvlar.json',
      'mcp.pre-unwrap.json',
    ]);
  });

  // A full disk without root: the shell's file size limit makes every write past 2–4 KiB fail
  // (EFBIG), as ENOSPC would, after part of the bytes went in.
  it.runIf(process.platform !== 'win32')(
    'leaves no backup and claims nothing when a write fails, and backs up in full once it can',
    async () => {
      const box = await sandbox();
      const servers = Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [
          `s${i}`,
          { command: 'npx', args: ['-y', `@example/server-${i}`, '--root', `/srv/data/${i}`] },
        ]),
      );
      const text = `${JSON.stringify({ mcpServers: servers }, null, 2)}\n`;
      expect(text.length).toBeGreaterThan(4096);
      const file = await box.put('home/.cursor/mcp.json', text);
      const wrapLimited = (...extra: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          const child = spawn(
            '/bin/sh',
            ['-c', 'ulimit -f 4 && exec "$0" "$@"', process.execPath, BIN, 'wrap', ...extra],
            { cwd: box.project, env: { ...process.env, ...box.env }, stdio: 'pipe' },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout, stderr }));
        });
      // --json says the same: no server of the file counts as wrapped.
      const json = await wrapLimited('--json');
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as {
        files: { written: boolean; servers: { status: string; reason: string | null }[] }[];
        summary: Record<string, number>;
      };
      expect(report.files[0]!.written).toBe(false);
      expect(new Set(report.files[0]!.servers.map((server) => server.status))).toEqual(
        new Set(['not_written']),
      );
      expect(report.files[0]!.servers[0]!.reason).toBe('the file could not be written');
      expect(report.summary).toMatchObject({ wrapped: 0, not_written: 40 });
      expect(readdirSync(dirname(file))).toEqual(['mcp.json']);

      const limited = await wrapLimited();
      expect(limited.code).toBe(1);
      expect(limited.stderr).toContain(`error: cannot write ${file}`);
      expect(limited.stdout).toContain('  ✗ s0: not wrapped (the file could not be written)\n');
      expect(limited.stdout).not.toContain('✓');
      expect(limited.stdout).toMatch(/✗ Nothing was wrapped: a file could not be written\.\n$/);
      expect(readdirSync(dirname(file))).toEqual(['mcp.json']);
      expect(await readFile(file, 'utf8')).toBe(text);

      const result = await box.run(['wrap']);
      expect(result.code).toBe(0);
      expect(await readFile(join(dirname(file), 'mcp.pre-kvlar.json'), 'utf8')).toBe(text);
      expect(readdirSync(dirname(file)).sort()).toEqual(['mcp.json', 'mcp.pre-kvlar.json']);
    },
  );

  it('keeps the file mode and writes through a symlink', async () => {
    const box = await sandbox();
    const real = await box.put('home/dotfiles/claude.json', fixture('claude-code-user.txt'));
    await chmod(real, 0o600);
    await symlink(real, join(box.home, '.claude.json'));
    expect((await box.run(['wrap', '--client', 'claude-code'])).code).toBe(0);
    expect(statSync(join(box.home, '.claude.json')).isFile()).toBe(true);
    expect(lstatSync(join(box.home, '.claude.json')).isSymbolicLink()).toBe(true);
    expect(statSync(real).mode & 0o777).toBe(0o600);
    expect(await readFile(real, 'utf8')).toContain('"--server-name",\n        "sentry"');
    // The backup holds the same secrets: it is as private as the file.
    expect(statSync(join(box.home, '.claude.pre-kvlar.json')).mode & 0o777).toBe(0o600);
  });

  it('wraps only what --only names, and not what --skip names', async () => {
    const box = await sandbox();
    const file = await box.put(
      'home/.config/Claude/claude_desktop_config.json',
      fixture('claude_desktop_config.txt'),
    );
    const result = await box.run([
      'wrap',
      '--only',
      'github',
      '--only',
      'sqlite',
      '--skip',
      'sqlite',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const statuses = JSON.parse(result.stdout).files[0].servers.map((server: Json) => [
      server.name,
      server.status,
    ]);
    expect(statuses).toEqual([
      ['filesystem', 'not_selected'],
      ['github', 'wrapped'],
      ['sqlite', 'skipped'],
      ['weather', 'not_selected'],
    ]);
    const after = parse(await readFile(file, 'utf8'));
    expect(after.mcpServers.github.command).toBe('kvlar');
    expect(after.mcpServers.sqlite.command).toBe('uvx');
    expect(after.mcpServers.filesystem.command).toBe('npx');

    const human = await box.run(['unwrap', '--skip', 'filesystem']);
    expect(human.stdout).toContain('  - filesystem: skipped (--skip)\n');
    expect(human.stdout).toContain(
      '  ✓ github: unwrapped (restored docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server)\n',
    );
  });

  it('refuses an --only or --skip name that no server has, before writing anything', async () => {
    const box = await sandbox();
    const original = fixture('claude_desktop_config.txt');
    const file = await box.put('home/.config/Claude/claude_desktop_config.json', original);
    const result = await box.run(['wrap', '--skip', 'githb']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: --skip 'githb': no server of that name (did you mean 'github'?)\nRun 'kvlar wrap --help' for usage.\n",
    );
    expect(await readFile(file, 'utf8')).toBe(original);
  });

  it('unwraps configs the Rust kvlar wrapped, and does not wrap them twice', async () => {
    const box = await sandbox();
    const rust = fixture('rust-wrapped.txt');
    const file = await box.put('home/.config/claude/claude_desktop_config.json', rust);
    const wrap = await box.run(['wrap', '--dry-run']);
    expect(wrap.stdout).toContain(
      '  ~ filesystem: already wrapped (by the Rust kvlar, without --server-name; with policy /Users/me/.kvlar/policy.yaml), skipping\n',
    );
    expect(wrap.stdout).toContain(
      '  ✓ memory: would wrap (npx -y @modelcontextprotocol/server-memory)\n',
    );

    const unwrap = await box.run(['unwrap']);
    expect(unwrap.code).toBe(0);
    expect(unwrap.stdout).toContain(
      '  ✓ filesystem: unwrapped (restored npx -y @modelcontextprotocol/server-filesystem /Users/me/Desktop)\n',
    );
    expect(unwrap.stdout).toContain('  ~ memory: not wrapped, skipping\n');
    expect(unwrap.stdout).toContain(
      `  Backed up to ${join(dirname(file), 'claude_desktop_config.pre-unwrap.json')}\n`,
    );
    const after = parse(await readFile(file, 'utf8'));
    expect(after.mcpServers.filesystem).toEqual({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/Desktop'],
    });
    expect(after.mcpServers.github).toEqual({
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-github'],
      env: { GITHUB_TOKEN: 'ghp_test123' },
    });
    expect(after.preferences).toEqual({ theme: 'dark' });
  });

  it('makes --policy absolute and checks the policy first', async () => {
    const box = await sandbox();
    await writeFiles(box.project, {
      'policies/team.yaml': POLICY,
      'bad.yaml': 'name: x\nrules: 3\n',
    });
    const file = await box.put('project/.mcp.json', fixture('claude-code-project.txt'));
    const ok = await box.run(['wrap', '--scope', 'project', '--policy', 'policies/team.yaml']);
    expect(ok.code).toBe(0);
    expect(parse(await readFile(file, 'utf8')).mcpServers['shared-db'].args.slice(0, 4)).toEqual([
      'proxy',
      '--stdio',
      '--policy',
      join(box.project, 'policies/team.yaml'),
    ]);

    const bad = await box
      .run(['unwrap', '--scope', 'project'])
      .then(() => box.run(['wrap', '--scope', 'project', '-p', 'bad.yaml']));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yaml');
    expect(bad.stderr).toContain('error: the policy is invalid; nothing was wrapped');
    expect(bad.stdout).toBe('');
    expect(await readFile(file, 'utf8')).toBe(fixture('claude-code-project.txt'));
  });

  it('asks for kvlar init when there is no policy', async () => {
    const box = await sandbox();
    await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    const result = await box.run(['wrap'], { KVLAR_HOME: join(box.home, 'nowhere') });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: policy file not found: ${join(box.home, 'nowhere/policy.yaml')} (create one with 'kvlar init', or name one with --policy FILE)\n`,
    );
  });

  it('uses the absolute path of the kvlar on PATH when it is this one', async () => {
    const box = await sandbox();
    const bin = join(box.home, 'bin');
    await mkdir(bin);
    await symlink(BIN, join(bin, 'kvlar'));
    const file = await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    const result = await box.run(['wrap'], {
      KVLAR_WRAP_COMMAND: '',
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
    expect(result.stderr).toBe('');
    expect(parse(await readFile(file, 'utf8')).mcpServers.postgres.command).toBe(
      join(bin, 'kvlar'),
    );
    // And unwrap recognises it.
    expect((await box.run(['unwrap'])).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(fixture('cursor-mcp.txt'));
  });

  it('writes plain kvlar, with a warning, when no kvlar is on PATH', async () => {
    const box = await sandbox();
    const file = await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    const result = await box.run(['wrap'], {
      KVLAR_WRAP_COMMAND: '',
      PATH: dirname(process.execPath),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: no kvlar on PATH: wrapped servers run 'kvlar'/);
    expect(parse(await readFile(file, 'utf8')).mcpServers.postgres.command).toBe('kvlar');
  });
});

describe('finding the client', () => {
  it('uses the only config found', async () => {
    const box = await sandbox();
    await box.put('home/.codeium/windsurf/mcp_config.json', fixture('windsurf-mcp_config.txt'));
    // A config without servers (Claude Code keeps ~/.claude.json anyway) is not a candidate.
    await box.put('home/.claude.json', '{"numStartups": 3, "projects": {}}\n');
    const result = await box.run(['wrap']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Windsurf \(user\): /);
  });

  it('lists several configs and asks which, writing nothing', async () => {
    const box = await sandbox();
    const desktop = await box.put(
      'home/.config/Claude/claude_desktop_config.json',
      fixture('claude_desktop_config.txt'),
    );
    const cursor = await box.put('home/.cursor/mcp.json', fixture('cursor-mcp.txt'));
    const result = await box.run(['wrap']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        'error: several MCP client configs found:',
        `  Claude Desktop  ${desktop}`,
        `  Cursor          ${cursor}`,
        'Pick one with --client NAME (or --config FILE), or wrap them all with --all.',
        "Run 'kvlar wrap --help' for usage.",
        '',
      ].join('\n'),
    );
    expect(await readFile(cursor, 'utf8')).toBe(fixture('cursor-mcp.txt'));

    const all = await box.run(['wrap', '--all', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout).files.map((file: Json) => [file.client, file.written])).toEqual([
      ['claude-desktop', true],
      ['cursor', true],
    ]);
    const human = await box.run(['unwrap', '--all']);
    expect(human.stdout).toContain(
      '✓ Unwrapped 6 of 8 servers. Restart Claude Desktop and Cursor to apply.',
    );
    expect(await readFile(desktop, 'utf8')).toBe(fixture('claude_desktop_config.txt'));
    expect(await readFile(cursor, 'utf8')).toBe(fixture('cursor-mcp.txt'));
  });

  it('says so when there is none, and points at project configs', async () => {
    const box = await sandbox();
    const none = await box.run(['wrap']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^error: no MCP client config with servers found in user scope \(looked for .*claude_desktop_config\.json.*\.claude\.json\); name a file with --config FILE\n$/,
    );

    await box.put('project/.vscode/mcp.json', fixture('vscode-mcp.txt'));
    const project = await box.run(['unwrap']);
    expect(project.code).toBe(1);
    expect(project.stderr).toContain(`; found with --scope project: .vscode/mcp.json\n`);
    const cursor = await box.run(['wrap', '--client', 'vscode']);
    expect(cursor.code).toBe(1);
    expect(cursor.stderr).toBe(
      `error: no VS Code config found (looked for ${join(box.home, '.config/Code/User/mcp.json')}); found with --scope project: .vscode/mcp.json\n`,
    );
    expect((await box.run(['wrap', '--scope', 'project'])).code).toBe(0);
  });

  it('takes any file with --config, telling its client by name or content', async () => {
    const box = await sandbox();
    const vscodeLike = await box.put('project/somewhere/servers.json', fixture('vscode-mcp.txt'));
    const result = await box.run(['wrap', '--config', 'somewhere/servers.json', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).files[0]).toMatchObject({
      client: 'vscode',
      scope: null,
      written: true,
    });
    expect((await box.run(['unwrap', '--config', vscodeLike])).code).toBe(0);
    expect(await readFile(vscodeLike, 'utf8')).toBe(fixture('vscode-mcp.txt'));

    const missing = await box.run(['wrap', '--config', 'nope.json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error: config file not found: nope.json\n`);
  });

  it.each([
    [
      ['wrap', '--client', 'cursr'],
      "error: unknown client 'cursr' (did you mean 'cursor'?) (clients: claude-desktop, cursor, vscode, windsurf, claude-code)",
    ],
    [
      ['wrap', '--all', '--client', 'cursor'],
      'error: --all and --client do not go together: --all means every client',
    ],
    [
      ['wrap', '--client', 'claude-desktop', '--scope', 'project'],
      'error: Claude Desktop has no project-scope config',
    ],
    [['wrap', '--scope', 'team'], "error: --scope must be user or project, not 'team'"],
    [['unwrap', '--policy', 'p.yaml'], "error: unknown flag '--policy'"],
  ])('refuses %j', async (args, message) => {
    const box = await sandbox();
    const result = await box.run(args);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(message);
    expect(existsSync(join(box.home, '.cursor'))).toBe(false);
  });
});
