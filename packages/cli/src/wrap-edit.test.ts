import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ANY_CONTAINERS, containersOf } from './clients.js';
import { isKvlarCommand } from './wrap-command.js';
import { parseConfig, unwrapConfig, type WrapOptions, wrapConfig } from './wrap-edit.js';

const selection = { only: new Set<string>(), skip: new Set<string>() };
const isKvlar = (command: string) => isKvlarCommand(command, '/opt/kvlar/bin/kvlar');
const WRAP: WrapOptions = {
  command: '/opt/kvlar/bin/kvlar',
  policy: '/home/me/.kvlar/policy.yaml',
  selection,
  isKvlar,
};

function wrap(text: string, options: Partial<WrapOptions> = {}) {
  const result = wrapConfig(text, ANY_CONTAINERS, { ...WRAP, ...options });
  if (!result.ok) throw new Error(result.error.message);
  return result;
}

function unwrap(text: string) {
  const result = unwrapConfig(text, ANY_CONTAINERS, { selection, isKvlar });
  if (!result.ok) throw new Error(result.error.message);
  return result;
}

function roundTrips(text: string): string {
  const wrapped = wrap(text).text;
  expect(wrapped).not.toBe(text);
  expect(unwrap(wrapped).text).toBe(text);
  // Twice is once.
  expect(wrap(wrapped).text).toBe(wrapped);
  return wrapped;
}

describe('wrapConfig', () => {
  it('rewrites command and args the Rust way, with --server-name', () => {
    const wrapped = wrap(
      '{"mcpServers": {"fs": {"command": "npx", "args": ["-y", "server", "/tmp"]}}}',
    );
    expect(JSON.parse(wrapped.text)).toEqual({
      mcpServers: {
        fs: {
          command: '/opt/kvlar/bin/kvlar',
          args: [
            'proxy',
            '--stdio',
            '--policy',
            '/home/me/.kvlar/policy.yaml',
            '--server-name',
            'fs',
            '--',
            'npx',
            '-y',
            'server',
            '/tmp',
          ],
        },
      },
    });
    expect(wrapped.entries).toEqual([
      {
        name: 'fs',
        location: ['mcpServers', 'fs'],
        status: 'wrapped',
        reason: undefined,
        commandLine: ['npx', '-y', 'server', '/tmp'],
      },
    ]);
  });

  it('lays inserted arguments out like the array it goes into', () => {
    const text =
      '{\n  "mcpServers": {\n    "fs": {\n      "command": "npx",\n      "args": [\n        "-y",\n        "x"\n      ]\n    }\n  }\n}\n';
    expect(roundTrips(text)).toBe(
      '{\n  "mcpServers": {\n    "fs": {\n      "command": "/opt/kvlar/bin/kvlar",\n      "args": [\n        "proxy",\n        "--stdio",\n        "--policy",\n        "/home/me/.kvlar/policy.yaml",\n        "--server-name",\n        "fs",\n        "--",\n        "npx",\n        "-y",\n        "x"\n      ]\n    }\n  }\n}\n',
    );
  });

  it('adds args after command when there were none, and unwrap removes them', () => {
    const text =
      '{\r\n\t"mcpServers": {\r\n\t\t"a": {\r\n\t\t\t"command": "server-a"\r\n\t\t},\r\n\t\t"b": {\r\n\t\t\t"command": "server-b",\r\n\t\t\t"env": {"K": "v"}\r\n\t\t}\r\n\t}\r\n}';
    const wrapped = roundTrips(text);
    expect(wrapped).toContain(
      '\t\t\t"command": "/opt/kvlar/bin/kvlar",\r\n\t\t\t"args": [\r\n\t\t\t\t"proxy",',
    );
    expect(wrapped).toContain('\t\t\t\t"server-b"\r\n\t\t\t],\r\n\t\t\t"env"');
    expect(JSON.parse(wrapped).mcpServers.b.env).toEqual({ K: 'v' });
  });

  it.each([
    ['an empty args list', '{"mcpServers":{"a":{"command":"x","args":[]}}}'],
    ['an empty args list with a space', '{"mcpServers":{"a":{"command":"x","args":[ ]}}}'],
    ['no args, on one line', '{"mcpServers":{"a":{"command":"x"}}}'],
    ['no args, one line with spaces', '{ "mcpServers": { "a": { "command": "x", "env": {} } } }'],
    ['one argument', '{"mcpServers":{"a":{"command":"x","args":["y"]}}}'],
    ['compact arguments', '{"mcpServers":{"a":{"command":"x","args":["y","z"]}}}'],
    [
      'unusual key order',
      '{"mcpServers":{"a":{"env":{"A":"1"},"args":["y"],"disabled":false,"command":"x"}}}',
    ],
    ['args before command, none after', '{"mcpServers":{"a":{"args":[],"command":"x"}}}'],
    [
      'escapes in strings',
      '{"mcpServers":{"a":{"command":"C:\\\\Program Files\\\\node.exe","args":["\\u00e9"]}}}',
    ],
    ['a BOM', '\uFEFF{"mcpServers":{"a":{"command":"x"}}}'],
    [
      'no final newline and odd spacing',
      '{"mcpServers" :{"a" :{"command" :"x" ,"args" :[ "y" ,"z" ]}}}',
    ],
    [
      'comments and a trailing comma',
      '{\n  // servers\n  "servers": {\n    /* one */ "a": {\n      "type": "stdio", // local\n      "command": "x",\n      "args": ["y", /* z */ "z",],\n    },\n  },\n}',
    ],
  ])('gives back the same bytes after unwrap: %s', (_name, text) => {
    roundTrips(text);
  });

  it('leaves remote servers alone, whatever their shape', () => {
    const text = JSON.stringify({
      mcpServers: {
        a: { url: 'https://example.com/mcp' },
        b: { serverUrl: 'https://example.com/sse' },
        c: { type: 'http', url: 'https://x' },
        d: { type: 'sse', command: 'weird' },
      },
    });
    const result = wrap(text);
    expect(result.text).toBe(text);
    expect(result.entries.map((entry) => [entry.name, entry.status, entry.reason])).toEqual([
      ['a', 'remote', 'remote server (url)'],
      ['b', 'remote', 'remote server (serverUrl)'],
      ['c', 'remote', 'remote server (type http)'],
      ['d', 'remote', 'remote server (type sse)'],
    ]);
  });

  it('reports entries it cannot wrap and wraps the others', () => {
    const text = JSON.stringify({
      mcpServers: {
        a: 'nope',
        b: {},
        c: { command: 1 },
        d: { command: 'x', args: [1] },
        e: { command: 'ok' },
      },
    });
    const result = wrap(text);
    expect(result.entries.map((entry) => [entry.status, entry.reason])).toEqual([
      ['invalid', 'not an object'],
      ['invalid', 'has no command'],
      ['invalid', 'command is not a string'],
      ['invalid', 'args is not a list of strings'],
      ['wrapped', undefined],
    ]);
  });

  it('skips entries that already run kvlar, noting those the Rust kvlar wrapped', () => {
    const rust = {
      command: '/usr/local/bin/kvlar',
      args: ['proxy', '--stdio', '--policy', '/p.yaml', '--', 'npx', 'x'],
    };
    const text = JSON.stringify({
      mcpServers: { rust, other: { command: 'kvlar-cli', args: ['proxy', '--', 'y'] } },
    });
    const result = wrap(text);
    expect(result.text).toBe(text);
    expect(result.entries.map((entry) => entry.reason)).toEqual([
      'already wrapped (by the Rust kvlar, without --server-name; with policy /p.yaml)',
      'already wrapped (by the Rust kvlar, without --server-name)',
    ]);
  });

  it('attaches a server name that starts with a dash', () => {
    const result = wrap('{"mcpServers":{"-odd":{"command":"x"}}}');
    expect(JSON.parse(result.text).mcpServers['-odd'].args).toContain('--server-name=-odd');
    expect(unwrap(result.text).text).toBe('{"mcpServers":{"-odd":{"command":"x"}}}');
  });

  it('honours --only and --skip', () => {
    const text = '{"mcpServers":{"a":{"command":"x"},"b":{"command":"y"},"c":{"command":"z"}}}';
    const only = wrap(text, { selection: { only: new Set(['a', 'b']), skip: new Set(['b']) } });
    expect(only.entries.map((entry) => entry.status)).toEqual([
      'wrapped',
      'skipped',
      'not_selected',
    ]);
    expect(JSON.parse(only.text).mcpServers.b).toEqual({ command: 'y' });
  });

  it("finds Claude Code's user and per-project servers, and nothing else of ~/.claude.json", () => {
    const text = `${JSON.stringify(
      {
        numStartups: 12,
        mcpServers: { top: { type: 'stdio', command: 'a', args: [], env: {} } },
        projects: {
          '/home/me/app': {
            allowedTools: [],
            mcpServers: { local: { command: 'b', args: ['c'] } },
          },
          '/home/me/other': { history: [{ display: 'command' }] },
        },
        servers: { notClaude: { command: 'z' } },
      },
      null,
      2,
    )}\n`;
    const result = wrapConfig(text, containersOf('claude-code'), WRAP);
    if (!result.ok) throw new Error('parse');
    expect(result.entries.map((entry) => entry.location)).toEqual([
      ['mcpServers', 'top'],
      ['projects', '/home/me/app', 'mcpServers', 'local'],
    ]);
    const after = JSON.parse(result.text);
    expect(after.numStartups).toBe(12);
    expect(after.projects['/home/me/other']).toEqual({ history: [{ display: 'command' }] });
    expect(after.servers).toEqual({ notClaude: { command: 'z' } });
    const back = unwrapConfig(result.text, containersOf('claude-code'), { selection, isKvlar });
    expect(back.ok && back.text).toBe(text);
  });

  it('unwraps what the Rust kvlar wrote, keeping the other fields', () => {
    const rust = `{
  "mcpServers": {
    "filesystem": {
      "command": "/usr/local/bin/kvlar",
      "args": [
        "proxy",
        "--stdio",
        "--policy",
        "/home/me/.kvlar/policy.yaml",
        "--",
        "npx",
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/tmp"
      ],
      "env": {
        "A": "1"
      }
    }
  }
}
`;
    const result = unwrap(rust);
    expect(result.text).toBe(`{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/tmp"
      ],
      "env": {
        "A": "1"
      }
    }
  }
}
`);
    expect(result.entries[0]).toMatchObject({
      status: 'unwrapped',
      commandLine: ['npx', '-y', '@modelcontextprotocol/server-filesystem', '/tmp'],
    });
  });

  it('leaves unwrapped entries and other kvlar commands alone on unwrap', () => {
    const text = JSON.stringify({
      mcpServers: {
        plain: { command: 'npx', args: ['x'] },
        tcp: { command: 'kvlar', args: ['proxy', '--listen', '127.0.0.1:9100'] },
        empty: { command: 'kvlar', args: ['proxy', '--stdio', '--'] },
      },
    });
    const result = unwrap(text);
    expect(result.text).toBe(text);
    expect(result.entries.map((entry) => [entry.status, entry.reason])).toEqual([
      ['not_wrapped', 'not wrapped'],
      ['not_wrapped', 'runs kvlar, but not as a wrapper'],
      ['invalid', 'runs kvlar proxy, but names no command after --'],
    ]);
  });
});

describe('an entry wrapped under another KVLAR_WRAP_COMMAND', () => {
  const original = JSON.stringify(
    {
      mcpServers: {
        fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] },
        '-dash': { command: 'node', args: ['server.js'] },
      },
    },
    null,
    2,
  );
  const script = '/opt/kvlar/run-kvlar.sh';
  const wrapped = wrap(original, { command: script }).text;

  it('is known by the arguments wrap wrote: wrapping again without it changes nothing', () => {
    expect(wrapped).toContain(`"command": "${script}"`);
    const again = wrap(wrapped);
    expect(again.text).toBe(wrapped);
    expect(again.entries.map((entry) => entry.status)).toEqual([
      'already_wrapped',
      'already_wrapped',
    ]);
  });

  it('unwraps back to the original bytes without it', () => {
    const result = unwrap(wrapped);
    expect(result.entries.map((entry) => entry.status)).toEqual(['unwrapped', 'unwrapped']);
    expect(result.text).toBe(original);
  });

  it.each([
    ['proxy alone', ['proxy', '--', 'x']],
    ['no --server-name', ['proxy', '--stdio', '--policy', 'p.yaml', '--', 'x']],
    [
      'flags in another order',
      ['proxy', '--policy', 'p.yaml', '--stdio', '--server-name', 'n', '--', 'x'],
    ],
    ['an extra flag', ['proxy', '--stdio', '--policy', 'p', '--server-name', 'n', '-v', '--', 'x']],
    ['nothing after --', ['proxy', '--stdio', '--policy', 'p', '--server-name', 'n', '--']],
    [
      'a first argument that is not proxy',
      ['serve', '--stdio', '--policy', 'p', '--server-name', 'n', '--', 'x'],
    ],
  ])("is not confused with a server of one's own taking %s", (_case, args) => {
    const text = JSON.stringify({ mcpServers: { mine: { command: 'my-gateway', args } } });
    expect(unwrap(text)).toMatchObject({ text, entries: [{ status: 'not_wrapped' }] });
    expect(wrap(text).entries).toMatchObject([{ status: 'wrapped' }]);
  });
});

describe('parseConfig', () => {
  it.each([
    ['{"mcpServers": {', 1, 17, "invalid JSON: expected '}'"],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "invalid JSON: expected ','"],
    ['[]', 1, 1, 'the top level is not a JSON object'],
  ])('locates the first problem in %j', (text, line, column, message) => {
    expect(parseConfig(text)).toEqual({ ok: false, error: { line, column, message } });
  });

  it('takes an empty file as one without servers', () => {
    expect(parseConfig('  \n')).toEqual({ ok: true, root: undefined });
  });
});

describe('wrap then unwrap', () => {
  const name = fc.string({ minLength: 1, maxLength: 8 });
  const word = fc.string({ maxLength: 12 });
  const server = fc.record(
    {
      type: fc.constant('stdio'),
      command: word,
      args: fc.array(word, { maxLength: 4 }),
      env: fc.dictionary(name, word, { maxKeys: 2 }),
    },
    { requiredKeys: ['command'] },
  );
  const config = fc.record({ mcpServers: fc.dictionary(name, server, { maxKeys: 4 }) });
  const layout = fc.constantFrom<[string | number | undefined, string]>(
    [undefined, '\n'],
    [2, '\n'],
    [4, '\r\n'],
    ['\t', '\n'],
  );

  it('gives back the same bytes for any config and layout', () => {
    fc.assert(
      fc.property(config, layout, (value, [indent, eol]) => {
        const text = JSON.stringify(value, null, indent).replace(/\n/g, eol);
        const wrapped = wrap(text).text;
        expect(unwrap(wrapped).text).toBe(text);
      }),
    );
  });
});
