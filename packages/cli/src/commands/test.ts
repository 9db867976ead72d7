import type { SuiteResult } from '@kvlar/core';
import { defineCommand } from 'citty';
import { ExitCode } from '../errors.js';
import { testFilesUnder } from '../files.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { reportIssues } from '../report.js';
import { runTestFile, type TestFileRun } from '../run-tests.js';
import { type Runtime, runtimeOf } from '../runtime.js';

export const testCommand = defineCommand({
  meta: { name: 'test', description: 'Run policy test files (*.test.yaml)' },
  args: {
    file: {
      type: 'string',
      alias: 'f',
      required: true,
      valueHint: 'file|dir',
      description: 'A test file, or a directory to search (recursively) for *.test.yaml files',
    },
    policy: {
      type: 'string',
      alias: 'p',
      valueHint: 'file',
      description: "The policy to test, instead of each test file's `policy:`",
    },
    json: { type: 'boolean', description: 'Print the results as JSON on stdout' },
    verbose: { type: 'boolean', alias: 'v', description: 'Also list the tests that pass' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const target = absoluteFrom(runtime.cwd, args.file);
    const isDirectory = kindOf(target) === 'directory';
    const files = isDirectory ? testFilesUnder(target) : [target];
    if (files.length === 0) {
      const shown = displayPath(target, runtime.cwd);
      const warn = runtime.colors.stderr.yellow('⚠');
      runtime.logger.warn(`${warn} No .test.yaml or .test.yml files found in ${shown}`);
      return ExitCode.failure;
    }

    const runs = files.map((file) => runTestFile(file, args.policy, runtime));
    const completed = runs.filter((run) => run.ok);
    const broken = runs.length - completed.length;
    const total = sum(completed);
    if (args.json === true) {
      for (const run of runs) reportIssues(runtime, run.ok ? run.warnings : run.issues);
      if (!isDirectory && completed[0] !== undefined) {
        runtime.printJson(suiteJson(completed[0].result));
      } else if (isDirectory) {
        runtime.printJson({
          files: completed.map((run) => ({
            file: run.file,
            policy: run.policy,
            ...suiteJson(run.result),
          })),
          ...total,
        });
      }
    } else {
      let blocks = 0;
      for (const run of runs) {
        // A blank line between the blocks of the files that ran; broken ones only write to stderr.
        if (run.ok && blocks++ > 0) runtime.print('');
        printRun(runtime, run, args.verbose === true);
      }
      if (isDirectory) {
        if (broken > 0) {
          const cross = runtime.colors.stderr.red('✗');
          runtime.logger.error(`${cross} ${broken} of ${runs.length} test files could not be run`);
        }
        runtime.print('');
        printSummary(runtime, total);
      }
    }
    return broken === 0 && total.failed === 0 ? ExitCode.ok : ExitCode.failure;
  },
});

function sum(runs: readonly TestFileRun[]): { total: number; passed: number; failed: number } {
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

/** The Rust CLI's block for one file: header, failures (and passes with -v), summary. */
function printRun(runtime: Runtime, run: TestFileRun, verbose: boolean): void {
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
  printSummary(runtime, result);
}

function printSummary(runtime: Runtime, result: { total: number; failed: number; passed: number }) {
  const paint = runtime.colors.stdout;
  if (result.failed === 0) {
    runtime.print(`${paint.green('✓')} ${result.passed}/${result.total} tests passed.`);
  } else {
    runtime.print(`${paint.red('✗')} ${result.failed}/${result.total} tests failed.`);
  }
}
