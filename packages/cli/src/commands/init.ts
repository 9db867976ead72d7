import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { didYouMean, parsePolicy, parseTestSuite, resolvePolicy } from '@kvlar/core';
import { defineCommand } from 'citty';
import { isScalar, parseDocument } from 'yaml';
import { builtinFile, builtinTemplates, findBuiltinDir } from '../builtins.js';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { describeFsError, readTextFile } from '../read-text.js';
import { reportIssues } from '../report.js';
import { type Runtime, runtimeOf } from '../runtime.js';
import { writeFileAtomic } from '../write-file.js';

const COMMAND = 'kvlar init';
const POLICY_FILE = 'policy.yaml';
const TEST_FILE = 'policy.test.yaml';

export const initCommand = defineCommand({
  meta: {
    name: 'init',
    description: 'Write a starter policy and its tests from a built-in template',
  },
  args: {
    dir: {
      type: 'string',
      alias: 'd',
      valueHint: 'dir',
      description: 'Where to write policy.yaml and policy.test.yaml (default: ~/.kvlar)',
    },
    template: {
      type: 'string',
      valueHint: 'name',
      description: 'The built-in template to start from (default: default; see --list)',
    },
    list: { type: 'boolean', description: 'List the templates with what each one is for' },
    force: { type: 'boolean', description: 'Overwrite policy.yaml and policy.test.yaml' },
    json: { type: 'boolean', description: 'Print the result as JSON on stdout' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const builtinDir = findBuiltinDir();
    const names = builtinTemplates(builtinDir);
    if (builtinDir === undefined || names.length === 0) {
      throw new CliError(
        'invalid_input',
        'no built-in templates found: kvlar is not installed completely',
      );
    }
    if (args.list === true) {
      const templates = names.map((name) => templateOf(builtinDir, name));
      listTemplates(runtime, templates, args.json === true);
      return ExitCode.ok;
    }

    const name = args.template ?? 'default';
    if (!names.includes(name)) {
      throw new CliError(
        'usage',
        `unknown template "${name}"${didYouMean(name, names)}; the templates are ${names.join(', ')}`,
        { command: COMMAND },
      );
    }

    const dir = args.dir === undefined ? defaultDir(runtime) : absoluteFrom(runtime.cwd, args.dir);
    const policyPath = join(dir, POLICY_FILE);
    const testPath = join(dir, TEST_FILE);
    const shown = (path: string) => displayPath(path, runtime.cwd);

    // Everything is checked before anything is written: a refusal leaves the directory as it was.
    const policyText = readTemplate(builtinFile(builtinDir, name), name);
    const checked = checkPolicy(runtime, policyText, shown(policyPath));
    if (checked === undefined) return ExitCode.failure;
    const testText = starterTests(name, readTestTemplate(builtinDir, name));
    const tests = parseTestSuite(testText, { file: shown(testPath) });
    if (!tests.ok) {
      reportIssues(runtime, tests.issues);
      return ExitCode.failure;
    }
    const kind = kindOf(dir);
    if (kind !== 'missing' && kind !== 'directory') {
      throw new CliError('invalid_input', `${shown(dir)} exists and is not a directory`);
    }
    const existing = [policyPath, testPath].filter((path) => kindOf(path) !== 'missing');
    if (existing.length > 0 && args.force !== true) {
      const [first, second] = existing.map(shown);
      const what =
        second === undefined ? `${first} already exists` : `${first} and ${second} already exist`;
      const them = second === undefined ? 'it' : 'them';
      throw new CliError(
        'invalid_input',
        `${what}: nothing was written (pass --force to overwrite ${them}, or -d DIR to write elsewhere)`,
      );
    }

    // ~/.kvlar also holds the run registry's bearer tokens: only its owner may look inside.
    makeDirectory(dir, args.dir === undefined ? 0o700 : undefined, shown);
    write(policyPath, policyText, shown);
    write(testPath, testText, shown);

    const report = {
      dir: shown(dir),
      template: name,
      policy: shown(policyPath),
      test: shown(testPath),
      rules: checked.rules,
      tests: tests.suite.tests.length,
    };
    if (args.json === true) {
      runtime.printJson(report);
      return ExitCode.ok;
    }
    const paint = runtime.colors.stdout;
    const verb = existing.length > 0 ? 'Wrote' : 'Created';
    const check = paint.green('✓');
    runtime.print(
      `${check} ${verb} ${report.policy} (${name} template, ${plural(report.rules, 'rule')})`,
    );
    runtime.print(`${check} ${verb} ${report.test} (${plural(report.tests, 'test')})`);
    runtime.print('');
    runtime.print('Next steps:');
    runtime.print(`  1. Review your policy:      ${report.policy}`);
    runtime.print(`  2. Run its tests:           kvlar test -f ${shellWord(report.dir)}`);
    runtime.print(`  3. Secure your MCP servers: kvlar wrap --policy ${shellWord(policyPath)}`);
    return ExitCode.ok;
  },
});

interface Template {
  readonly name: string;
  readonly description: string;
}

function templateOf(builtinDir: string, name: string): Template {
  const read = readTextFile(builtinFile(builtinDir, name));
  const parsed = read.ok ? parsePolicy(read.text) : undefined;
  const description = parsed?.ok === true ? (parsed.policy.description ?? '') : '';
  return { name, description };
}

/** The Rust listing: names padded to one column, then what each is for. */
function listTemplates(runtime: Runtime, templates: readonly Template[], json: boolean): void {
  if (json) {
    runtime.printJson({ templates });
    return;
  }
  const width = Math.max(...templates.map((template) => template.name.length));
  runtime.print('Available kvlar init templates:');
  runtime.print('');
  for (const { name, description } of templates) {
    runtime.print(`  ${name.padEnd(width)}  ${description}`.trimEnd());
  }
  runtime.print('');
  runtime.print('Usage: kvlar init --template <name>');
}

/** `$KVLAR_HOME` (as the run registry has it), else `~/.kvlar`, from the environment given. */
function defaultDir(runtime: Runtime): string {
  const { KVLAR_HOME, HOME, USERPROFILE } = runtime.env;
  if (KVLAR_HOME !== undefined && KVLAR_HOME !== '') return absoluteFrom(runtime.cwd, KVLAR_HOME);
  const home = HOME !== undefined && HOME !== '' ? HOME : USERPROFILE;
  if (home === undefined || home === '') {
    throw new CliError(
      'invalid_input',
      'cannot tell where your home directory is (HOME is not set): pass -d DIR',
    );
  }
  return join(home, '.kvlar');
}

function readTemplate(path: string, name: string): string {
  const read = readTextFile(path);
  if (!read.ok) {
    throw new CliError('invalid_input', `cannot read the template "${name}": ${read.message}`);
  }
  return read.text;
}

function readTestTemplate(builtinDir: string, name: string): string | undefined {
  const read = readTextFile(join(builtinDir, `${name}.test.yaml`));
  return read.ok ? read.text : undefined;
}

/**
 * The template as it will load from its new place: parsed under its new name and its `extends`
 * resolved from there, as `kvlar test` and `kvlar proxy` will. Built-in names resolve anywhere;
 * a path relative to the template would not, and is refused here rather than after writing.
 */
function checkPolicy(runtime: Runtime, text: string, file: string): { rules: number } | undefined {
  const parsed = parsePolicy(text, { file });
  if (!parsed.ok) {
    reportIssues(runtime, parsed.issues);
    return undefined;
  }
  const resolved = resolvePolicy(parsed.policy, runtime.loader);
  if (!resolved.ok) {
    reportIssues(runtime, resolved.issues);
    return undefined;
  }
  return { rules: resolved.policy.rules.length };
}

/**
 * The template's own test file, pointed at `policy.yaml`: its leading comment (which names the
 * template's file) gives way to one about the new place. A template without tests gets an empty
 * list to add to.
 */
function starterTests(template: string, shipped: string | undefined): string {
  const header = [
    `# Tests for ${POLICY_FILE}, from the built-in "${template}" template.`,
    `# Run them with \`kvlar test -f ${TEST_FILE}\`; \`--coverage\` lists the rules no test decides.`,
    '',
    '',
  ].join('\n');
  if (shipped === undefined) return `${header}policy: ${POLICY_FILE}\ntests: []\n`;
  const body = shipped.replace(/^(?:[ \t]*(?:#[^\n]*)?\n)*/, '');
  const document = parseDocument(body);
  const node = document.get('policy', true);
  if (isScalar(node) && node.range !== undefined && node.range !== null) {
    const [start, end] = node.range;
    return `${header}${body.slice(0, start)}${POLICY_FILE}${body.slice(end)}`;
  }
  return `${header}policy: ${POLICY_FILE}\n${body}`;
}

function makeDirectory(
  dir: string,
  mode: number | undefined,
  shown: (path: string) => string,
): void {
  try {
    mkdirSync(dir, mode === undefined ? { recursive: true } : { recursive: true, mode });
  } catch (error) {
    const message = `cannot create ${shown(dir)}: ${describeFsError(error)}`;
    throw new CliError('invalid_input', message, { cause: error });
  }
}

function write(path: string, text: string, shown: (path: string) => string): void {
  try {
    // A policy kept elsewhere (a dotfiles repository) and linked here is written where it is,
    // with its mode, and the link stays.
    const existing = kindOf(path) === 'missing' ? undefined : realpathSync(path);
    writeFileAtomic(
      existing ?? path,
      text,
      existing === undefined ? {} : { mode: statSync(existing).mode & 0o7777 },
    );
  } catch (error) {
    throw new CliError('invalid_input', `cannot write ${shown(path)}: ${describeFsError(error)}`, {
      cause: error,
    });
  }
}

/** A path as a shell word: as is when it is plain, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
