import { describe, expect, it } from 'vitest';
import { kvlar, lines, tempDir } from './helpers.js';

/** Deterministic "random" bytes (a linear congruential generator), with NUL bytes among them. */
function garbage(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = i % 7 === 3 ? 0 : state >>> 24;
  }
  return bytes;
}

const rule = (matchOn: string, effect = '{ type: deny, reason: no }') =>
  `name: bad\nversion: "1"\nrules:\n  - id: r\n    match_on:\n${matchOn}\n    effect: ${effect}\n`;

interface Case {
  readonly name: string;
  readonly files: Record<string, string | Uint8Array>;
  /** The one line expected on stderr: where, then what. */
  readonly where: string;
  readonly message: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'malformed YAML',
    files: { 'p.yaml': rule('      resources: [a', '{ type: allow }') },
    where: 'p.yaml:7:5',
    message: /./,
  },
  {
    name: 'an unknown key, with a did-you-mean',
    files: { 'p.yaml': rule('      resource: [bash]') },
    where: 'p.yaml:6:7',
    message: 'unknown key "resource" (did you mean "resources"?)',
  },
  {
    name: 'a value of the wrong type',
    files: { 'p.yaml': 'name: bad\nversion: [1, 0]\nrules: []\n' },
    where: 'p.yaml:2:10',
    message: 'version: expected a string',
  },
  {
    name: 'an invalid regex',
    files: { 'p.yaml': rule('      parameters: { command: "rm(" }') },
    where: 'p.yaml:6:30',
    message: 'invalid regex "rm("',
  },
  {
    name: 'an invalid glob',
    files: { 'p.yaml': rule('      resources: ["[abc"]') },
    where: 'p.yaml:6:19',
    message: 'invalid glob "[abc"',
  },
  {
    name: 'a missing extends target',
    files: { 'p.yaml': 'name: bad\nversion: "1"\nextends: [./missing.yaml]\nrules: []\n' },
    where: 'p.yaml:3:11',
    message: 'cannot load extends "./missing.yaml"',
  },
  {
    name: 'an extends cycle',
    files: {
      'p.yaml': 'name: a\nversion: "1"\nextends: [b.yaml]\nrules: []\n',
      'b.yaml': 'name: b\nversion: "1"\nextends:\n  - p.yaml\nrules: []\n',
    },
    where: 'b.yaml:4:5',
    message: 'extends cycle: p.yaml → b.yaml → p.yaml',
  },
  {
    name: 'a duplicate rule id',
    files: {
      'p.yaml':
        'name: bad\nversion: "1"\nrules:\n  - id: a\n    match_on: {}\n    effect: { type: allow }\n  - id: a\n    match_on: {}\n    effect: { type: allow }\n',
    },
    where: 'p.yaml:7:9',
    message: 'duplicate rule id "a"',
  },
  {
    name: 'an empty file',
    files: { 'p.yaml': '' },
    where: 'p.yaml:1:1',
    message: 'the file is empty',
  },
  {
    name: 'binary garbage',
    files: { 'p.yaml': garbage(256) },
    where: 'p.yaml:1:2',
    message: 'not UTF-8 text (byte 0xd8 at offset 1)',
  },
  {
    name: 'a NUL byte in otherwise valid text',
    files: { 'p.yaml': 'name: bad\nversion: "1"\n\u0000rules: []\n' },
    where: 'p.yaml:3:1',
    message: 'binary data',
  },
  {
    name: 'bytes that are not UTF-8 after valid lines',
    files: {
      'p.yaml': new Uint8Array([...new TextEncoder().encode('name: x\nversion: "é'), 0xff]),
    },
    where: 'p.yaml:2:12',
    message: 'not UTF-8 text (byte 0xff at offset 20)',
  },
];

function expectOneIssue(stderr: string, expected: Case): void {
  const reported = lines(stderr);
  expect(reported).toHaveLength(1);
  const [line] = reported;
  expect(line?.slice(0, expected.where.length + ': error: '.length)).toBe(
    `${expected.where}: error: `,
  );
  if (typeof expected.message === 'string') expect(line).toContain(expected.message);
  else expect(line).toMatch(expected.message);
}

describe('kvlar validate on bad input', () => {
  it.each(cases)('reports $name as one line with file:line:column and exits 1', async (bad) => {
    const dir = await tempDir(bad.files);
    const result = await kvlar(['validate', '-p', 'p.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expectOneIssue(result.stderr, bad);
  });

  it('reports every invalid policy of a directory, not just the first', async () => {
    const dir = await tempDir({
      'a.yaml': rule('      resource: [bash]'),
      'b.yaml': 'name: fine\nversion: "1"\nrules: []\n',
      'c.yaml': '',
    });
    const result = await kvlar(['validate', '-p', '.'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      'a.yaml:6:7: error: rules[0].match_on.resource: unknown key "resource" (did you mean "resources"?)',
      'c.yaml:1:1: error: the file is empty; expected a YAML policy',
      '✗ 2 of 3 policies are invalid',
    ]);
    expect(result.stdout).toBe("✓ Policy 'fine' is valid (0 rules)\n");
  });
});

describe('kvlar evaluate and kvlar test on bad input', () => {
  const spotChecks = cases.filter((bad) =>
    ['an unknown key, with a did-you-mean', 'an extends cycle', 'binary garbage'].includes(
      bad.name,
    ),
  );

  it.each(spotChecks)('evaluate reports $name in a policy and exits 1', async (bad) => {
    const dir = await tempDir(bad.files);
    const result = await kvlar(['evaluate', '-p', 'p.yaml', '--resource', 'bash'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expectOneIssue(result.stderr, bad);
  });

  it.each(spotChecks)('test reports $name in the tested policy and exits 1', async (bad) => {
    const dir = await tempDir({
      ...bad.files,
      't.test.yaml':
        'policy: p.yaml\ntests:\n  - id: x\n    action: { resource: a }\n    expect: deny\n',
    });
    const result = await kvlar(['test', '-f', 't.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expectOneIssue(result.stderr, bad);
  });

  it('test reports an unknown key in the test file itself', async () => {
    const dir = await tempDir({
      'p.yaml': 'name: ok\nversion: "1"\nrules: []\n',
      't.test.yaml':
        'policy: p.yaml\ntests:\n  - id: x\n    action: { resource: a }\n    expct: deny\n',
    });
    const result = await kvlar(['test', '-f', 't.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toContain(
      't.test.yaml:5:5: error: tests[0].expct: unknown key "expct" (did you mean "expect"?)',
    );
  });

  it('test reports binary garbage in the test file as one line', async () => {
    const dir = await tempDir({ 't.test.yaml': garbage(64) });
    const result = await kvlar(['test', '-f', 't.test.yaml'], { cwd: dir });
    expect(result.code).toBe(1);
    expectOneIssue(result.stderr, {
      name: 'garbage',
      files: {},
      where: 't.test.yaml:1:2',
      message: 'not UTF-8 text (byte 0xd8 at offset 1)',
    });
  });
});
