/**
 * Runs the code blocks of the documentation: README.md, docs/*.md, docs/adr/*.md and
 * packages/*\/README.md. The conventions are in docs/README.md; each block is one test named by
 * its file and line. Needs the build (`npx -y pnpm@10 build`): the CLI runs from dist.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatIssue,
  type Issue,
  type PolicyLoader,
  parsePolicy,
  parseTestSuite,
  resolvePolicy,
  validatePolicy,
} from '../../packages/core/dist/index.js';
import { FIXTURES } from './fixtures.js';
import { type Block, directive, extractBlocks, type InsideKey } from './markdown.js';
import { alignForDiff, matchLines, normaliseLines, parseTranscript } from './transcript.js';
import { BIN, createWorld, linkPackages, REPO, type World } from './world.js';

/** Skipped blocks are listed after every run; more than this fails, so that they stay few. */
const MAX_SKIPPED = 13;
const TIMEOUT_MS = 60_000;

// Dependencies of the packages, not of the repository root: borrowed from them.
interface Yaml {
  parseDocument(
    text: string,
    options: { uniqueKeys: boolean },
  ): { errors: { message: string }[]; toJS(): unknown };
}
interface JsoncParseError {
  error: number;
  offset: number;
}
interface Jsonc {
  parse(text: string, errors: JsoncParseError[], options: { allowTrailingComma: boolean }): unknown;
  printParseErrorCode(code: number): string;
}
const yaml: Yaml = createRequire(join(REPO, 'packages/core/package.json'))('yaml');
// What `kvlar wrap` reads client configs with.
const jsonc: Jsonc = createRequire(join(REPO, 'packages/cli/package.json'))('jsonc-parser');

if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx -y pnpm@10 build)`);

type Kind =
  | 'console'
  | 'shell'
  | 'js'
  | 'ts'
  | 'python'
  | 'yaml'
  | 'json'
  | 'jsonc'
  | 'usage'
  | 'illustration'
  | 'unknown';

function kindOf(block: Block): Kind {
  switch (block.lang) {
    case 'console':
      return 'console';
    case 'sh':
    case 'bash':
    case 'shell':
      return 'shell';
    case 'js':
    case 'mjs':
    case 'javascript':
      return 'js';
    case 'ts':
    case 'typescript':
      return 'ts';
    case 'python':
    case 'py':
      return 'python';
    case 'yaml':
    case 'yml':
      return 'yaml';
    case 'json':
      return 'json';
    case 'jsonc':
      return 'jsonc';
    case '':
      return block.content.startsWith('kvlar ') ? 'usage' : 'illustration';
    case 'text':
    case 'txt':
    case 'markdown':
    case 'md':
    case 'diff':
      return 'illustration';
    default:
      return 'unknown';
  }
}

const RUNNABLE: ReadonlySet<Kind> = new Set(['js', 'ts', 'python']);

function documents(): string[] {
  const inDir = (dir: string): string[] =>
    readdirSync(join(REPO, dir))
      .filter((file) => file.endsWith('.md'))
      .sort()
      .map((file) => join(dir, file));
  const packageReadmes = readdirSync(join(REPO, 'packages'))
    .sort()
    .map((name) => join('packages', name, 'README.md'))
    .filter((file) => existsSync(join(REPO, file)));
  return ['README.md', ...inDir('docs'), ...inDir('docs/adr'), ...packageReadmes];
}

const where = (block: Block, offset = 0) => `${block.file}:${block.line + offset}`;

// ---------------------------------------------------------------------------------------------
// What was run, for the summary.

const tally = {
  run: new Map<Kind, number>(),
  skipped: [] as string[],
  fragments: [] as string[],
  illustrations: 0,
};
const count = (kind: Kind) => tally.run.set(kind, (tally.run.get(kind) ?? 0) + 1);

afterAll(() => {
  const run = [...tally.run].map(([kind, n]) => `${kind} ${n}`).join(', ');
  const total = [...tally.run.values()].reduce((sum, n) => sum + n, 0);
  const lines = [
    `doc blocks: ${total} run (${run}), ${tally.skipped.length} skipped, ${tally.fragments.length} fragments checked for syntax only, ${tally.illustrations} not code (text, plain)`,
    ...tally.skipped.map((entry) => `  skipped   ${entry}`),
    ...tally.fragments.map((entry) => `  fragment  ${entry}`),
  ];
  console.log(lines.join('\n'));
});

// ---------------------------------------------------------------------------------------------
// TypeScript: every TS block is type-checked in one program, against the built packages' types.

const typeErrors = new Map<string, string[]>();
const tsBlocks = new Map<string, string>();

function tsFileName(block: Block): string {
  return `${block.file.replace(/[/.]/g, '_')}_${block.line}.ts`;
}

beforeAll(() => {
  if (tsBlocks.size === 0) return;
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'kvlar-doctest-tsc-')));
  try {
    linkPackages(join(dir, 'node_modules'));
    const base = ts.parseJsonConfigFileContent(
      ts.readConfigFile(join(REPO, 'tsconfig.base.json'), ts.sys.readFile).config,
      ts.sys,
      REPO,
    ).options;
    const { customConditions: _source, declaration: _d, sourceMap: _s, ...options } = base;
    const files = [...tsBlocks].map(([name, code]) => {
      writeFileSync(join(dir, name), code);
      return join(dir, name);
    });
    const program = ts.createProgram(files, {
      ...options,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(dir, 'node_modules/@types')],
      moduleDetection: ts.ModuleDetectionKind.Force,
    });
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const file = diagnostic.file ? basename(diagnostic.file.fileName) : '(program)';
      const position = diagnostic.file?.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const at = position ? `line ${position.line + 1}:${position.character + 1}: ` : '';
      typeErrors.set(file, [...(typeErrors.get(file) ?? []), `${at}TS${diagnostic.code}: ${text}`]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, TIMEOUT_MS);

// ---------------------------------------------------------------------------------------------

for (const file of documents()) {
  const { blocks, problems } = extractBlocks(readFileSync(join(REPO, file), 'utf8'), file);
  for (const block of blocks) {
    if (kindOf(block) === 'ts' && !directive(block, 'skip') && !directive(block, 'fragment')) {
      tsBlocks.set(tsFileName(block), block.content);
    }
  }

  describe(file, () => {
    let world: World;
    beforeAll(() => {
      world = createWorld();
    });
    afterAll(() => world?.dispose());

    it('has well-formed doctest directives', () => {
      expect(problems).toEqual([]);
    });

    blocks.forEach((block, index) => {
      const kind = kindOf(block);
      const skip = directive(block, 'skip');
      const name = `${where(block)} ${block.lang || 'plain'}`;
      if (skip) {
        tally.skipped.push(`${where(block)}: ${skip.reason}`);
        it.skip(`${name} (skipped: ${skip.reason})`, () => {});
        return;
      }
      const previous = blocks[index - 1];
      // An output block is checked by the test of the block it follows.
      if (directive(block, 'output') && previous && RUNNABLE.has(kindOf(previous))) return;
      if (kind === 'illustration' && block.directives.length === 0) {
        tally.illustrations++;
        return;
      }
      const next = blocks[index + 1];
      const output = next && directive(next, 'output') ? next : undefined;
      it(
        name,
        async () => {
          checkDirectives(block, kind);
          for (const fixture of block.directives) {
            if (fixture.kind !== 'fixture') continue;
            const make = FIXTURES[fixture.path];
            if (!make)
              throw new Error(
                `${where(block)}: no fixture "${fixture.path}" in docs/test/fixtures.ts`,
              );
            world.writeFile(fixture.path, make());
          }
          const file = directive(block, 'file');
          if (file) world.writeFile(file.path, world.realify(block.content));
          const fragment = directive(block, 'fragment');
          if (fragment && output) {
            throw new Error(
              `${where(block)}: a fragment does not run: ${where(output)} is not checked`,
            );
          }
          if (fragment) tally.fragments.push(`${where(block)}: ${fragment.reason}`);
          else count(kind);
          await RUNNERS[kind](block, world, { fragment: fragment !== undefined, output });
        },
        TIMEOUT_MS,
      );
    });
  });
}

it(`skips at most ${MAX_SKIPPED} blocks`, () => {
  expect(tally.skipped.length, tally.skipped.join('\n')).toBeLessThanOrEqual(MAX_SKIPPED);
});

function checkDirectives(block: Block, kind: Kind): void {
  const allowed: Record<string, ReadonlySet<Kind>> = {
    exit: new Set(['console', 'shell']),
    inside: new Set(['yaml']),
    file: new Set(['yaml', 'json', 'jsonc', 'illustration']),
    fragment: new Set(['js', 'ts', 'python', 'yaml', 'json', 'jsonc']),
  };
  for (const entry of block.directives) {
    const kinds = allowed[entry.kind];
    if (kinds && !kinds.has(kind)) {
      throw new Error(
        `${where(block)}: "${entry.kind}" does not apply to a ${block.lang || 'plain'} block`,
      );
    }
  }
  if (directive(block, 'output')) {
    throw new Error(`${where(block)}: "output" must follow a js, ts or python block`);
  }
}

// ---------------------------------------------------------------------------------------------

interface RunOptions {
  readonly fragment: boolean;
  /** The block that shows what this one prints. */
  readonly output: Block | undefined;
}

const RUNNERS: Record<
  Kind,
  (block: Block, world: World, options: RunOptions) => Promise<void> | void
> = {
  console: runConsole,
  shell: runShell,
  js: (block, world, options) => runModule(block, world, options, block.content),
  ts: runTypeScript,
  python: runPython,
  yaml: checkYaml,
  json: (block, _world, options) => checkJson(block, options, false),
  jsonc: (block, _world, options) => checkJson(block, options, true),
  usage: checkUsage,
  illustration: () => {},
  unknown: (block) => {
    throw new Error(
      `${where(block)}: no runner for \`\`\`${block.lang} blocks: use a known language, or mark it <!-- doctest: skip — why -->`,
    );
  },
};

async function runConsole(block: Block, world: World): Promise<void> {
  const commands = parseTranscript(block.content);
  if (typeof commands === 'string') throw new Error(`${where(block)}: ${commands}`);
  const status = directive(block, 'exit')?.code ?? 0;
  for (const [index, command] of commands.entries()) {
    const result = await world.run('bash', ['-c', world.realify(command.text)], TIMEOUT_MS / 2);
    const label = `${where(block, command.offset + 1)}: $ ${command.text}`;
    compareOutput(label, command.expected, world.unreal(result.output));
    expect
      .soft(
        result.code,
        `${label}\nexit status (the last command of a block may exit as marked by <!-- doctest: exit N -->)`,
      )
      .toBe(index === commands.length - 1 ? status : 0);
  }
}

function compareOutput(label: string, expectedLines: readonly string[], actualText: string): void {
  const expected = normaliseLines(expectedLines);
  const actual = normaliseLines(actualText.split('\n'));
  if (matchLines(expected, actual)) return;
  expect
    .soft(actual.join('\n'), `${label}\noutput (- expected, + actual)`)
    .toBe(alignForDiff(expected, actual).join('\n'));
}

async function runShell(block: Block, world: World): Promise<void> {
  const result = await world.run(
    'bash',
    ['-e', '-o', 'pipefail', '-c', world.realify(block.content)],
    TIMEOUT_MS / 2,
  );
  const status = directive(block, 'exit')?.code ?? 0;
  expect(
    result.code,
    `${where(block)}: the script exited ${result.code}; its output:\n${world.unreal(result.output)}`,
  ).toBe(status);
}

function snippetPath(block: Block, world: World, extension: string): string {
  const path = join(
    world.root,
    'snippets',
    `${block.file.replace(/[/.]/g, '_')}_${block.line}${extension}`,
  );
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

async function runModule(
  block: Block,
  world: World,
  options: RunOptions,
  code: string,
): Promise<void> {
  if (options.fragment) {
    checkSyntax(block, block.lang === 'ts' || block.lang === 'typescript');
    return;
  }
  const path = snippetPath(block, world, '.mjs');
  writeFileSync(path, code);
  await runProgram(block, world, options, 'node', [path]);
}

async function runProgram(
  block: Block,
  world: World,
  options: RunOptions,
  program: string,
  args: string[],
): Promise<void> {
  const result = await world.run(program, args, TIMEOUT_MS / 2);
  const output = world.unreal(result.output);
  if (options.output) {
    compareOutput(
      `${where(block)}: what it prints, shown at ${where(options.output)}`,
      options.output.content.replace(/\n$/, '').split('\n'),
      output,
    );
  }
  expect(result.code, `${where(block)}: exited ${result.code}; its output:\n${output}`).toBe(0);
}

async function runTypeScript(block: Block, world: World, options: RunOptions): Promise<void> {
  if (options.fragment) {
    checkSyntax(block, true);
    return;
  }
  const errors = typeErrors.get(tsFileName(block)) ?? [];
  expect(errors, `${where(block)}: type errors (lines count from the block's first line)`).toEqual(
    [],
  );
  const js = ts.transpileModule(block.content, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
  }).outputText;
  await runModule(block, world, options, js);
}

async function runPython(block: Block, world: World, options: RunOptions): Promise<void> {
  if (options.fragment) {
    const path = snippetPath(block, world, '.py');
    writeFileSync(path, block.content);
    const result = await world.run(
      'python3',
      ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read())', path],
      TIMEOUT_MS / 2,
    );
    expect(result.code, `${where(block)}: not valid Python:\n${world.unreal(result.output)}`).toBe(
      0,
    );
    return;
  }
  const path = snippetPath(block, world, '.py');
  writeFileSync(path, block.content);
  await runProgram(block, world, options, 'python3', [path]);
}

/** A fragment is not a program, but it must at least parse (as a module, or as one expression). */
function checkSyntax(block: Block, typescript: boolean): void {
  const syntaxErrors = (code: string) =>
    ts.transpileModule(code, {
      fileName: typescript ? 'fragment.ts' : 'fragment.js',
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).diagnostics ?? [];
  const asModule = syntaxErrors(block.content);
  if (asModule.length === 0 || syntaxErrors(`(\n${block.content}\n)`).length === 0) return;
  const messages = asModule.map((diagnostic) =>
    ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
  );
  throw new Error(`${where(block)}: the fragment does not parse:\n${messages.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Data blocks

function checkYaml(block: Block, world: World, options: RunOptions): void {
  const path = directive(block, 'file')?.path;
  const document = yaml.parseDocument(block.content, { uniqueKeys: true });
  expect(
    document.errors.map((error) => error.message),
    `${where(block)}: YAML syntax`,
  ).toEqual([]);
  if (options.fragment) return;
  const inside = directive(block, 'inside');
  const value: unknown = document.toJS();
  const file = path === undefined ? undefined : world.real(path);
  let issues: readonly Issue[];
  if (inside) issues = policyIssues(validatePolicy(wrapPart(inside.key, value)), world);
  else if (isObject(value) && 'tests' in value) {
    const suite = parseTestSuite(block.content, file === undefined ? {} : { file });
    issues = suite.ok ? [] : suite.issues;
  } else if (isObject(value) && 'rules' in value) {
    issues = policyIssues(parsePolicy(block.content, file === undefined ? {} : { file }), world);
  } else {
    throw new Error(
      `${where(block)}: neither a policy (rules:) nor a test file (tests:): mark it <!-- doctest: inside rules|rule|match_on|conditions --> or <!-- doctest: fragment — why -->`,
    );
  }
  expect(
    issues.map((issue) => world.unreal(formatIssue(issue))),
    `${where(block)}: the policy is not valid`,
  ).toEqual([]);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A part of a policy, made whole with the least it needs: an id, an effect, a name. */
function wrapPart(key: InsideKey, value: unknown): unknown {
  const rule = (fields: unknown) => ({
    id: 'doctest-rule',
    effect: { type: 'allow' },
    ...(isObject(fields) ? fields : { fields }),
  });
  const rules =
    key === 'rules'
      ? value
      : key === 'rule'
        ? [rule(value)]
        : key === 'match_on'
          ? [rule({ match_on: value })]
          : [rule({ match_on: { conditions: value } })];
  return { name: 'doctest', version: '1', rules };
}

function policyIssues(parsed: ReturnType<typeof parsePolicy>, world: World): readonly Issue[] {
  if (!parsed.ok) return parsed.issues;
  const resolved = resolvePolicy(parsed.policy, loader(world));
  return resolved.ok ? [] : resolved.issues;
}

/** `extends` as the CLI resolves it: a built-in template, else a file of the doc's world. */
function loader(world: World): PolicyLoader {
  return {
    load(reference, from) {
      const builtin = join(REPO, 'policies', `${reference}.yaml`);
      if (/^[\w-]+$/.test(reference) && existsSync(builtin)) {
        return { ok: true, file: `builtin:${reference}`, text: readFileSync(builtin, 'utf8') };
      }
      const base = from === undefined || from.startsWith('builtin:') ? world.cwd : dirname(from);
      const path = resolve(base, reference);
      if (!existsSync(path))
        return { ok: false, message: `no built-in template or file ${relative(world.cwd, path)}` };
      return { ok: true, file: path, text: readFileSync(path, 'utf8') };
    },
  };
}

function checkJson(block: Block, options: RunOptions, comments: boolean): void {
  if (options.fragment) return;
  if (!comments) {
    expect(() => JSON.parse(block.content), `${where(block)}: not JSON`).not.toThrow();
    return;
  }
  const errors: JsoncParseError[] = [];
  jsonc.parse(block.content, errors, { allowTrailingComma: true });
  expect(
    errors.map((error) => `${jsonc.printParseErrorCode(error.error)} at offset ${error.offset}`),
    `${where(block)}: not JSONC`,
  ).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Usage synopses (plain blocks starting with `kvlar `): the command exists, and so does every
// flag shown, in its --help.

const helpCache = new Map<string, string>();

function help(path: readonly string[]): string {
  const key = path.join(' ');
  let text = helpCache.get(key);
  if (text === undefined) {
    const result = spawnSync(process.execPath, [BIN, ...path, '--help'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    });
    if (result.status !== 0)
      throw new Error(`kvlar ${key} --help exited ${result.status}: ${result.stderr}`);
    text = result.stdout;
    helpCache.set(key, text);
  }
  return text;
}

function checkUsage(block: Block): void {
  // A line starting with `kvlar` begins a synopsis; indented lines continue it.
  const synopses = block.content
    .replace(/\n\s+/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '');
  for (const synopsis of synopses) {
    const words = synopsis.split(/\s+/);
    if (words[0] !== 'kvlar')
      throw new Error(`${where(block)}: a usage block holds only kvlar synopses: ${synopsis}`);
    const path: string[] = [];
    for (const word of words.slice(1)) {
      if (!/^[a-z]+$/.test(word)) break;
      path.push(word);
    }
    const text = help(path);
    const known = new Set(text.match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? []);
    const shown =
      synopsis.slice(`kvlar ${path.join(' ')}`.length).match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? [];
    const unknown = shown.filter((flag) => !known.has(flag));
    expect(
      unknown,
      `${where(block)}: flags of \`${synopsis}\` that \`kvlar ${path.join(' ')} --help\` does not list`,
    ).toEqual([]);
  }
}
