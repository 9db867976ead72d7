import { defineCommand } from 'citty';
import { ExitCode } from '../errors.js';
import { policyFilesIn } from '../files.js';
import { loadPolicyFile, type PolicyFileResult } from '../load-policy.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { issueJson, reportIssues } from '../report.js';
import { type Runtime, runtimeOf } from '../runtime.js';

export const validateCommand = defineCommand({
  meta: {
    name: 'validate',
    description: 'Check a policy file (with what it extends), or every policy in a directory',
  },
  args: {
    policy: {
      type: 'string',
      alias: 'p',
      required: true,
      valueHint: 'file|dir',
      description: 'A policy file, or a directory of *.yaml / *.yml policies',
    },
    json: { type: 'boolean', description: 'Print the result as JSON on stdout' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const { policy, json } = context.args;
    const target = absoluteFrom(runtime.cwd, policy);
    const isDirectory = kindOf(target) === 'directory';
    const files = isDirectory ? policyFilesIn(target) : [target];
    if (files.length === 0) {
      const shown = displayPath(target, runtime.cwd);
      runtime.logger.warn(
        `${runtime.colors.stderr.yellow('⚠')} No .yaml or .yml files found in ${shown}`,
      );
      if (json === true) runtime.printJson({ valid: false, policies: [] });
      return ExitCode.failure;
    }
    const results = files.map((file) => loadPolicyFile(file, runtime));
    for (const result of results) {
      reportIssues(runtime, result.ok ? result.warnings : result.issues);
    }
    const invalid = results.filter((result) => !result.ok).length;
    if (json === true) {
      runtime.printJson({ valid: invalid === 0, policies: results.map(resultJson) });
    } else if (isDirectory) {
      printDirectory(runtime, results, invalid);
    } else {
      printFile(runtime, results[0]!);
    }
    return invalid === 0 ? ExitCode.ok : ExitCode.failure;
  },
});

function printFile(runtime: Runtime, result: PolicyFileResult): void {
  if (!result.ok) return;
  runtime.print(`${runtime.colors.stdout.green('✓')} Policy '${result.policy.name}' is valid`);
  runtime.print(`  Version: ${result.policy.version}`);
  runtime.print(`  Rules: ${result.policy.rules.length}`);
}

function printDirectory(
  runtime: Runtime,
  results: readonly PolicyFileResult[],
  invalid: number,
): void {
  const check = runtime.colors.stdout.green('✓');
  for (const result of results) {
    if (!result.ok) continue;
    const { name, rules } = result.policy;
    runtime.print(`${check} Policy '${name}' is valid (${rules.length} rules)`);
  }
  if (invalid === 0) runtime.print(`  ${results.length} policies validated`);
  else {
    const cross = runtime.colors.stderr.red('✗');
    runtime.logger.error(`${cross} ${invalid} of ${results.length} policies are invalid`);
  }
}

function resultJson(result: PolicyFileResult): Record<string, unknown> {
  if (!result.ok) {
    return {
      file: result.file,
      valid: false,
      name: null,
      version: null,
      rules: null,
      issues: result.issues.map(issueJson),
    };
  }
  return {
    file: result.file,
    valid: true,
    name: result.policy.name,
    version: result.policy.version,
    rules: result.policy.rules.length,
    issues: result.warnings.map(issueJson),
  };
}
