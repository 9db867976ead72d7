import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { formatLintFinding, type LintFinding, lintPolicy, parseTestSuite } from '@kvlar/core';
import { defineCommand } from 'citty';
import { CliError, ExitCode } from '../errors.js';
import { policyFilesIn } from '../files.js';
import { loadPolicyFile, type PolicyFileResult } from '../load-policy.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { readTextFile } from '../read-text.js';
import { issueJson, reportIssues } from '../report.js';
import { type Runtime, runtimeOf } from '../runtime.js';
import { listServerTools, readToolsFile } from '../tool-list.js';

const DEFAULT_TIMEOUT_SECONDS = 30;

export const lintCommand = defineCommand({
  meta: {
    name: 'lint',
    description:
      'Find rules that can never decide, allows that hide denies, unknown tools and untested policies',
  },
  args: {
    policy: {
      type: 'string',
      alias: 'p',
      required: true,
      valueHint: 'file|dir',
      description: 'A policy file, or a directory of *.yaml / *.yml policies',
    },
    tools: {
      type: 'string',
      valueHint: 'file',
      description:
        "The server's tools, to flag rules naming none: JSON names, tools, or a tools/list result",
    },
    timeout: {
      type: 'string',
      valueHint: 'seconds',
      description: `With -- <command>: how long the server may take to list its tools (default ${DEFAULT_TIMEOUT_SECONDS})`,
    },
    strict: { type: 'boolean', description: 'Exit 1 on warnings too' },
    json: { type: 'boolean', description: 'Print the findings as JSON on stdout' },
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const usage = (message: string) => new CliError('usage', message, { command: 'kvlar lint' });
    const terminator = context.rawArgs.indexOf('--');
    const server = terminator === -1 ? undefined : context.rawArgs.slice(terminator + 1);
    if (server !== undefined && server.length === 0) throw usage('no server command after --');
    if (server !== undefined && args.tools !== undefined) {
      throw usage('give the tools either as --tools FILE or as a server after --, not both');
    }
    if (args.timeout !== undefined && server === undefined) {
      throw usage('--timeout applies to a server given after --');
    }
    const timeoutMs = timeoutOf(args.timeout, usage);

    const target = absoluteFrom(runtime.cwd, args.policy);
    const isDirectory = kindOf(target) === 'directory';
    const files = isDirectory ? policyFilesIn(target) : [target];
    if (files.length === 0) {
      const shown = displayPath(target, runtime.cwd);
      runtime.logger.warn(
        `${runtime.colors.stderr.yellow('⚠')} No .yaml or .yml files found in ${shown}`,
      );
      if (args.json === true) runtime.printJson({ files: [], errors: 0, warnings: 0 });
      return ExitCode.failure;
    }
    const loaded = files.map((file) => ({ absolute: file, result: loadPolicyFile(file, runtime) }));

    let tools: string[] | undefined;
    if (args.tools !== undefined) {
      const absolute = absoluteFrom(runtime.cwd, args.tools);
      tools = readToolsFile(absolute, displayPath(absolute, runtime.cwd));
    } else if (server !== undefined) {
      tools = await listServerTools(server, runtime, timeoutMs);
    }

    const tested = testedPolicies(files, runtime);
    const linted = loaded.map(({ absolute, result }) => ({
      result,
      findings: result.ok
        ? lintPolicy(result.policy, {
            ...(tools === undefined ? {} : { tools }),
            tested: tested.has(absolute),
          })
        : [],
    }));

    const counts = { errors: 0, warnings: 0, invalid: 0 };
    for (const { result, findings } of linted) {
      if (!result.ok) counts.invalid++;
      for (const issue of result.ok ? result.warnings : result.issues) {
        counts[issue.severity === 'error' ? 'errors' : 'warnings']++;
      }
      for (const finding of findings)
        counts[finding.severity === 'error' ? 'errors' : 'warnings']++;
      reportIssues(runtime, result.ok ? result.warnings : result.issues);
    }
    const failed = counts.errors > 0 || (args.strict === true && counts.warnings > 0);

    if (args.json === true) {
      runtime.printJson({
        files: linted.map(({ result, findings }) => fileJson(result, findings)),
        errors: counts.errors,
        warnings: counts.warnings,
      });
    } else {
      for (const { findings } of linted) reportFindings(runtime, findings);
      printSummary(runtime, counts, linted.length, failed);
    }
    return failed ? ExitCode.failure : ExitCode.ok;
  },
});

function timeoutOf(value: string | undefined, usage: (message: string) => CliError): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(seconds > 0) || seconds > 3600) {
    throw usage(`--timeout must be a number of seconds between 0 and 3600, not '${value}'`);
  }
  return seconds * 1000;
}

/**
 * The policies among `files` that a test file in the same directory names in its `policy:`
 * (relative to the test file). Test files that do not parse name nothing.
 */
function testedPolicies(files: readonly string[], runtime: Runtime): Set<string> {
  const tested = new Set<string>();
  for (const dir of new Set(files.map((file) => dirname(file)))) {
    for (const testFile of testFilesIn(dir)) {
      const read = readTextFile(testFile);
      if (!read.ok) continue;
      const parsed = parseTestSuite(read.text, { file: displayPath(testFile, runtime.cwd) });
      const named = parsed.ok ? parsed.suite.policy : undefined;
      if (named !== undefined) tested.add(resolve(dirname(testFile), named));
    }
  }
  return tested;
}

const TEST_FILE = /\.test\.ya?ml$/;

/** `*.test.yaml` / `*.test.yml` directly in `dir`. */
function testFilesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => TEST_FILE.test(entry.name) && !entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  } catch {
    return [];
  }
}

function reportFindings(runtime: Runtime, findings: readonly LintFinding[]): void {
  for (const finding of findings) {
    if (finding.severity === 'warning') runtime.logger.warn(formatLintFinding(finding));
    else runtime.logger.error(formatLintFinding(finding));
  }
}

/** `✓ no problems in 2 policies`, on stdout; `✗ 1 error, 2 warnings in 2 policies` on stderr. */
function printSummary(
  runtime: Runtime,
  counts: { errors: number; warnings: number; invalid: number },
  policies: number,
  failed: boolean,
): void {
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const where = `in ${policies} ${policies === 1 ? 'policy' : 'policies'}`;
  const invalid = counts.invalid > 0 ? ` (${counts.invalid} invalid)` : '';
  if (counts.errors === 0 && counts.warnings === 0) {
    runtime.print(`${runtime.colors.stdout.green('✓')} No problems found ${where}`);
    return;
  }
  const found = `${plural(counts.errors, 'error')}, ${plural(counts.warnings, 'warning')} ${where}${invalid}`;
  if (failed) runtime.logger.error(`${runtime.colors.stderr.red('✗')} ${found}`);
  else runtime.print(`${runtime.colors.stdout.yellow('⚠')} ${found}`);
}

function fileJson(result: PolicyFileResult, findings: readonly LintFinding[]) {
  return {
    file: result.file,
    valid: result.ok,
    issues: (result.ok ? result.warnings : result.issues).map(issueJson),
    findings: findings.map(findingJson),
  };
}

/** Every field present, `null` when unknown, as `issueJson` does for issues. */
function findingJson(finding: LintFinding): Record<string, unknown> {
  return {
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    ruleId: finding.ruleId ?? null,
    otherRuleId: finding.otherRuleId ?? null,
    example: finding.example ?? null,
    file: finding.file ?? null,
    line: finding.line ?? null,
    column: finding.column ?? null,
    path: finding.path,
  };
}
