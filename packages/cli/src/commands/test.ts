import { parseArgs } from 'node:util';
import type { SuiteResult, TestCaseResult } from '@kvlar/core';
import { defineCommand } from 'citty';
import { variadic } from '../args.js';
import type { Painter } from '../colors.js';
import { CliError, ExitCode } from '../errors.js';
import { testFilesUnder } from '../files.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { reportIssues } from '../report.js';
import { runTestFile, type TestFileRun } from '../run-tests.js';
import { type Runtime, runtimeOf } from '../runtime.js';
import {
  belowMinimum,
  type Coverage,
  coverageOf,
  formatPercent,
  type PolicyCoverage,
} from '../test-coverage.js';

const COMMAND = 'kvlar test';

export const testCommand = defineCommand({
  meta: { name: 'test', description: 'Run policy test files (*.test.yaml)' },
  args: {
    paths: variadic({
      type: 'positional',
      required: false,
      valueHint: 'file|dir…',
      description: 'Test files, or directories to search (recursively) for *.test.yaml files',
    }),
    file: {
      type: 'string',
      alias: 'f',
      valueHint: 'file|dir',
      description: 'A test file or directory, like an argument (repeatable)',
    },
    policy: {
      type: 'string',
      alias: 'p',
      valueHint: 'file',
      description: "The policy to test, instead of each test file's `policy:`",
    },
    json: { type: 'boolean', description: 'Print the results as JSON on stdout' },
    verbose: { type: 'boolean', alias: 'v', description: 'Also list the tests that pass' },
    coverage: {
      type: 'boolean',
      description: 'Also list, per policy, the rules that decided no test',
    },
    'coverage-min': {
      type: 'string',
      valueHint: 'percent',
      description: 'Fail unless each policy has this % of its rules covered (implies --coverage)',
    },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const paths = pathsOf(context.rawArgs);
    if (paths.length === 0) {
      throw new CliError('usage', 'missing test files: give FILE|DIR arguments or -f FILE|DIR', {
        command: COMMAND,
      });
    }
    const min = coverageMinOf(args['coverage-min']);
    const coverage = args.coverage === true || min !== undefined;
    const started = performance.now();

    const targets = paths.map((path) => absoluteFrom(runtime.cwd, path));
    // One test file is the Rust command: its output and --json stay exactly the Rust ones.
    const single = targets.length === 1 && kindOf(targets[0]!) !== 'directory';
    const { files, empty } = collectFiles(targets, runtime);
    if (files.length === 0) return ExitCode.failure;

    const progress = createProgress(runtime, files.length);
    const runs = files.map((file, index) => {
      const run = runTestFile(file, { policyOverride: args.policy, coverage }, runtime);
      progress.update(index + 1);
      return run;
    });
    progress.clear();

    const completed = runs.filter((run) => run.ok);
    const broken = runs.length - completed.length;
    const total = sum(runs);
    const report = coverage ? coverageOf(runs) : undefined;
    const below = report !== undefined && min !== undefined ? belowMinimum(report, min) : [];
    const summary: Summary = {
      runs,
      total,
      broken,
      coverage: report,
      min,
      below,
      verbose: args.verbose === true,
      milliseconds: performance.now() - started,
    };

    if (args.json === true) {
      for (const run of runs) reportIssues(runtime, run.ok ? run.warnings : run.issues);
      const coverageJson = report === undefined ? {} : { coverage: coverageJsonOf(summary) };
      if (single && completed[0] !== undefined) {
        runtime.printJson({ ...suiteJson(completed[0].result), ...coverageJson });
      } else if (!single) {
        runtime.printJson({
          files: completed.map((run) => ({
            file: run.file,
            policy: run.policy,
            ...suiteJson(run.result),
          })),
          ...total,
          ...coverageJson,
        });
      }
    } else if (single) {
      printRustRun(runtime, runs[0]!, summary.verbose);
      if (report !== undefined && runs[0]!.ok) {
        runtime.print('');
        printCoverage(runtime, summary, report);
      }
    } else {
      printRunner(runtime, summary);
    }
    const ok = broken === 0 && total.failed === 0 && empty === 0 && below.length === 0;
    return ok ? ExitCode.ok : ExitCode.failure;
  },
});

interface Totals {
  total: number;
  passed: number;
  failed: number;
}

interface Summary {
  readonly runs: readonly TestFileRun[];
  readonly total: Totals;
  readonly broken: number;
  readonly coverage: Coverage | undefined;
  readonly min: number | undefined;
  readonly below: readonly PolicyCoverage[];
  readonly verbose: boolean;
  readonly milliseconds: number;
}

/**
 * The test files and directories named by `-f` and as arguments, in the order given: citty keeps
 * only the last `-f`, and neither knows their relative order. The command line was checked
 * already (args.ts), so this only collects.
 */
function pathsOf(rawArgs: readonly string[]): string[] {
  const { tokens } = parseArgs({
    args: [...rawArgs],
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      policy: { type: 'string', short: 'p' },
      'coverage-min': { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      coverage: { type: 'boolean' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const paths: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') paths.push(token.value);
    else if (token.kind === 'option' && token.name === 'file' && token.value !== undefined) {
      paths.push(token.value);
    }
  }
  return paths;
}

function coverageMinOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const value = match === null ? Number.NaN : Number(match[1]);
  if (!(value >= 0 && value <= 100)) {
    throw new CliError(
      'usage',
      `--coverage-min must be a percentage from 0 to 100 (like 80), not '${text}'`,
      { command: COMMAND },
    );
  }
  return value;
}

/**
 * Each file as given, each directory's test files, in order, each file once. A directory without
 * test files is reported and counted: a CI job pointed at an emptied directory must not pass.
 */
function collectFiles(
  targets: readonly string[],
  runtime: Runtime,
): { files: string[]; empty: number } {
  const files: string[] = [];
  const seen = new Set<string>();
  let empty = 0;
  const add = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    files.push(file);
  };
  for (const target of targets) {
    if (kindOf(target) !== 'directory') {
      add(target);
      continue;
    }
    const found = testFilesUnder(target);
    if (found.length === 0) {
      const shown = displayPath(target, runtime.cwd);
      const warn = runtime.colors.stderr.yellow('⚠');
      runtime.logger.warn(`${warn} No .test.yaml or .test.yml files found in ${shown}`);
      empty++;
    }
    for (const file of found) add(file);
  }
  return { files, empty };
}

const PROGRESS_FROM_FILES = 10;

/**
 * A progress line on stderr while many files run, redrawn in place; only on a terminal, where it
 * is erased before the results are printed. Pipes and CI logs never see it.
 */
function createProgress(
  runtime: Runtime,
  total: number,
): { update(done: number): void; clear(): void } {
  const stream = runtime.stderr;
  const shown =
    stream.isTTY === true && runtime.env.TERM !== 'dumb' && total >= PROGRESS_FROM_FILES;
  if (!shown) return { update() {}, clear() {} };
  let drawn = false;
  return {
    update(done) {
      stream.write(`\r\u001b[2KRunning test files… ${done}/${total}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\u001b[2K');
    },
  };
}

function sum(runs: readonly TestFileRun[]): Totals {
  const totals = { total: 0, passed: 0, failed: 0 };
  for (const run of runs) {
    if (!run.ok) continue;
    totals.total += run.result.total;
    totals.passed += run.result.passed;
    totals.failed += run.result.failed;
  }
  return totals;
}

/** Exactly the core's (and the Rust CLI's) result shape, key order included. */
function suiteJson(result: SuiteResult): SuiteResult {
  const { results, total, passed, failed } = result;
  return { results, total, passed, failed };
}

function coverageJsonOf(summary: Summary): Record<string, unknown> {
  const coverage = summary.coverage!;
  return {
    policies: coverage.policies.map((policy) => ({
      file: policy.file,
      rules: policy.rules.map((rule) => ({
        id: rule.id,
        policy: rule.policy,
        file: rule.file ?? null,
        tests: rule.tests,
      })),
      total: policy.rules.length,
      covered: policy.covered,
      percent: policy.percent,
    })),
    total: coverage.rules,
    covered: coverage.covered,
    percent: coverage.percent,
    min: summary.min ?? null,
    met: summary.below.length === 0,
  };
}

/** The Rust CLI's block for one file: header, failures (and passes with -v), summary. */
function printRustRun(runtime: Runtime, run: TestFileRun, verbose: boolean): void {
  if (!run.ok) {
    reportIssues(runtime, run.issues);
    return;
  }
  reportIssues(runtime, run.warnings);
  const paint = runtime.colors.stdout;
  const { result } = run;
  runtime.print(`Running ${result.total} tests from ${run.file}...`);
  runtime.print('');
  for (const test of result.results) {
    if (!test.passed) {
      runtime.print(`  ${paint.red('✗')} ${test.id}`);
      for (const failure of test.failures) runtime.print(`    → ${failure}`);
    } else if (verbose) {
      runtime.print(`  ${paint.green('✓')} ${test.id} (${test.actual_decision})`);
    }
  }
  runtime.print('');
  if (result.failed === 0) {
    runtime.print(`${paint.green('✓')} ${result.passed}/${result.total} tests passed.`);
  } else {
    runtime.print(`${paint.red('✗')} ${result.failed}/${result.total} tests failed.`);
  }
}

/**
 * Several files: one line per file, its failing cases under it (every case with -v), then the
 * totals, as test runners print them.
 */
function printRunner(runtime: Runtime, summary: Summary): void {
  const paint = runtime.colors.stdout;
  for (const run of summary.runs) {
    if (!run.ok) {
      reportIssues(runtime, run.issues);
      runtime.print(`${paint.red('✗')} ${run.file} ${paint.dim('(could not be run)')}`);
      continue;
    }
    reportIssues(runtime, run.warnings);
    const { result } = run;
    const failed = result.failed > 0 ? `, ${result.failed} failed` : '';
    const mark = result.failed === 0 ? paint.green('✓') : paint.red('✗');
    runtime.print(`${mark} ${run.file} ${paint.dim(`(${plural(result.total, 'test')}${failed})`)}`);
    for (const test of result.results) {
      if (!test.passed) printFailure(runtime, test);
      else if (summary.verbose) {
        runtime.print(`  ${paint.green('✓')} ${test.id} ${paint.dim(`(${test.actual_decision})`)}`);
      }
    }
  }
  if (summary.broken > 0) {
    const cross = runtime.colors.stderr.red('✗');
    const of = summary.runs.length;
    runtime.logger.error(`${cross} ${summary.broken} of ${of} test files could not be run`);
  }
  if (summary.coverage !== undefined) {
    runtime.print('');
    printCoverage(runtime, summary, summary.coverage);
  }

  const { total } = summary;
  const failedFiles = summary.runs.filter((run) => run.ok && run.result.failed > 0).length;
  const passedFiles = summary.runs.length - failedFiles - summary.broken;
  const fileCounts = counts(paint, failedFiles, summary.broken, passedFiles);
  const testCounts = counts(paint, total.failed, 0, total.passed);
  const rows: [string, string][] = [
    ['Test files', `${fileCounts} ${paint.dim(`(${summary.runs.length})`)}`],
    ['Tests', `${testCounts} ${paint.dim(`(${total.total})`)}`],
  ];
  if (summary.coverage !== undefined) {
    const { rules, covered, percent } = summary.coverage;
    rows.push(['Coverage', `${covered}/${plural(rules, 'rule')} (${formatPercent(percent)})`]);
  }
  rows.push(['Duration', formatDuration(summary.milliseconds)]);
  runtime.print('');
  for (const [label, text] of rows) runtime.print(`${paint.bold(label.padEnd(10))}  ${text}`);
}

/** The Rust failure lines, then what the engine actually decided, by which rule and why. */
function printFailure(runtime: Runtime, test: TestCaseResult): void {
  const paint = runtime.colors.stdout;
  runtime.print(`  ${paint.red('✗')} ${test.id}`);
  for (const failure of test.failures) runtime.print(`    → ${failure}`);
  const reason = test.actual_reason === null ? '' : `: ${test.actual_reason}`;
  runtime.print(
    paint.dim(`    actual: ${test.actual_decision} by rule '${test.actual_rule}'${reason}`),
  );
}

/**
 * Per policy: covered rules out of all (those it extends included), then each rule that decided
 * no case, in evaluation order, with the file it comes from when that is not the policy itself.
 */
function printCoverage(runtime: Runtime, summary: Summary, coverage: Coverage): void {
  const paint = runtime.colors.stdout;
  runtime.print('Rule coverage:');
  const below = new Set(summary.below);
  for (const policy of coverage.policies) {
    const ratio = `${policy.covered}/${plural(policy.rules.length, 'rule')} (${formatPercent(policy.percent)})`;
    const low = below.has(policy)
      ? paint.red(`, below --coverage-min ${formatPercent(summary.min!)}`)
      : '';
    const missed = policy.rules.filter((rule) => rule.tests === 0);
    runtime.print(`  ${policy.file}: ${ratio}${low}${missed.length > 0 ? '; not covered:' : ''}`);
    for (const rule of missed) {
      const from =
        rule.file === policy.file ? '' : paint.dim(` (from ${rule.file ?? rule.policy})`);
      runtime.print(`    ${paint.yellow('·')} ${rule.id}${from}`);
    }
  }
  if (summary.min === undefined) return;
  const min = formatPercent(summary.min);
  if (summary.below.length === 0) {
    runtime.print(`${paint.green('✓')} Every policy has at least ${min} of its rules covered.`);
  } else {
    const names = summary.below.map((policy) => policy.file).join(', ');
    runtime.print(`${paint.red('✗')} Coverage below --coverage-min ${min}: ${names}`);
  }
}

/** `1 failed, 2 passed`: the counts that are not zero (passed, when all are). */
function counts(paint: Painter, failed: number, broken: number, passed: number): string {
  const shown: string[] = [];
  if (failed > 0) shown.push(paint.red(`${failed} failed`));
  if (broken > 0) shown.push(paint.red(`${broken} could not be run`));
  if (passed > 0 || shown.length === 0) shown.push(paint.green(`${passed} passed`));
  return shown.join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  return `${(milliseconds / 1000).toFixed(2)} s`;
}
