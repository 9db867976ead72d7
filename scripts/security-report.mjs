#!/usr/bin/env node
/**
 * Rewrites the results table of docs/security.md from a real run: builds the packages (the CLI's
 * process tests run dist/), runs every test file that scripts/security-rows.json cites with
 * vitest's JSON reporter, maps each row to the results of the tests it cites, and writes the
 * table between the markers with the time, the counts and each row's result.
 *
 *   node scripts/security-report.mjs              build, run, rewrite the table
 *   node scripts/security-report.mjs --no-build   use dist/ as it is
 *   node scripts/security-report.mjs --from FILE  rewrite from an earlier vitest JSON report
 *
 * Exits 1 when a row fails or a cited test did not run, 0 otherwise (open rows are not failures:
 * the table says they are open and why).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CASES_TEST_FILE,
  caseGroup,
  caseTitle,
  DOC_FILE,
  isTemplate,
  loadRows,
  renderTable,
  replaceTable,
  titlePattern,
} from './security-table.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const from = args.includes('--from') ? args[args.indexOf('--from') + 1] : undefined;
const build = !args.includes('--no-build') && from === undefined;

const rows = loadRows(root);
const files = [
  ...new Set([
    ...rows.flatMap((row) => row.tests.map(([file]) => file)),
    ...(rows.some((row) => row.cases !== undefined) ? [CASES_TEST_FILE] : []),
  ]),
].sort();

for (const file of files) {
  if (!existsSync(join(root, file)))
    fail(`${file} is cited in scripts/security-rows.json but does not exist`);
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

if (build) {
  // Through pnpm, as the root scripts run it: turbo needs the package manager on PATH.
  log('building the packages (npx -y pnpm@10 build)…');
  run('npx', ['-y', 'pnpm@10', 'build', '--output-logs=errors-only']);
}

let reportFile = from;
if (reportFile === undefined) {
  reportFile = join(mkdtempSync(join(tmpdir(), 'kvlar-security-')), 'vitest.json');
  log(`running ${files.length} test files with vitest; the JSON report goes to ${reportFile}`);
  // Failing tests make vitest exit 1: that is a result to report, not a reason to stop.
  spawnSync(
    bin('vitest'),
    ['run', '--reporter=dot', '--reporter=json', `--outputFile.json=${reportFile}`, ...files],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (!existsSync(reportFile)) fail('vitest wrote no JSON report');
}

const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const byFile = new Map();
for (const result of report.testResults) {
  const file = result.name.startsWith(root) ? result.name.slice(root.length) : result.name;
  byFile.set(file.replaceAll('\\', '/'), result.assertionResults);
}

/** The assertions a cited test stands for: one, or every case of an it.each. */
function assertionsOf(file, name) {
  const all = byFile.get(file) ?? [];
  if (!isTemplate(name)) return all.filter((assertion) => assertion.title === name);
  const pattern = titlePattern(name);
  return all.filter((assertion) => pattern.test(assertion.title));
}

function caseAssertions(file, id) {
  return (byFile.get(CASES_TEST_FILE) ?? []).filter(
    (assertion) =>
      assertion.ancestorTitles.at(-1) === caseGroup(file) && assertion.title === caseTitle(id),
  );
}

const results = new Map();
const tally = { pass: 0, fail: 0, open: 0, incomplete: 0 };
const problems = [];
for (const row of rows) {
  const groups = [
    ...row.tests.map(([file, name]) => ({
      label: `${file} › ${name}`,
      found: assertionsOf(file, name),
    })),
    ...Object.entries(row.cases ?? {}).flatMap(([file, ids]) =>
      ids.map((id) => ({ label: `${file} case ${id}`, found: caseAssertions(file, id) })),
    ),
  ];
  const found = groups.flatMap((group) => group.found);
  const passed = found.filter((assertion) => assertion.status === 'passed').length;
  const failed = found.filter((assertion) => assertion.status === 'failed');
  const notRun = groups.filter(
    (group) =>
      group.found.length === 0 ||
      group.found.every((a) => a.status !== 'passed' && a.status !== 'failed'),
  );
  let text;
  if (failed.length > 0) {
    text = `**fail** (${failed.length} of ${found.length} failed)`;
    tally.fail++;
    for (const assertion of failed) problems.push(`${row.id}: failed: ${assertion.fullName}`);
  } else if (notRun.length > 0) {
    text = `**not run** (${notRun.length} of ${groups.length} cited tests skipped or missing)`;
    tally.incomplete++;
    for (const group of notRun) problems.push(`${row.id}: not run: ${group.label}`);
  } else if (row.open !== undefined) {
    text = groups.length === 0 ? 'open' : `open; cited tests pass (${passed}/${found.length})`;
    tally.open++;
  } else {
    text = `pass (${passed}/${found.length})`;
    tally.pass++;
  }
  results.set(row.id, text);
}

const when = new Date(report.startTime ?? Date.now()).toISOString().replace(/\.\d+Z$/, 'Z');
const summary =
  `Produced by \`node scripts/security-report.mjs\` from a vitest run started ${when} ` +
  `(Node ${process.version}, ${process.platform}): ${rows.length} rows, ${tally.pass} pass, ` +
  `${tally.fail} fail, ${tally.incomplete} not run, ${tally.open} open. The run: ` +
  `${report.numTotalTests} tests in ${report.testResults.length} files, ${report.numPassedTests} passed, ` +
  `${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped. ` +
  'Do not edit this table by hand: edit scripts/security-rows.json and run the script again.';

const docPath = join(root, DOC_FILE);
writeFileSync(
  docPath,
  replaceTable(readFileSync(docPath, 'utf8'), renderTable(rows, results, summary)),
);
log(`${DOC_FILE}: ${summary}`);
for (const problem of problems) log(`  ${problem}`);
process.exitCode = tally.fail > 0 || tally.incomplete > 0 ? 1 : 0;

function run(command, commandArgs) {
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: ['ignore', 2, 'inherit'],
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) fail(`${command} ${commandArgs.join(' ')} failed`);
}

function log(message) {
  process.stderr.write(`security-report: ${message}\n`);
}

function fail(message) {
  log(message);
  process.exit(2);
}
