import type { ResolvedPolicy, RuleDocument } from '@kvlar/core';
import { defineCommand } from 'citty';
import { ExitCode } from '../errors.js';
import { loadPolicyFile, policyFileArg } from '../load-policy.js';
import { reportIssues } from '../report.js';
import type { Runtime } from '../runtime.js';
import { runtimeOf } from '../runtime.js';

export const inspectCommand = defineCommand({
  meta: {
    name: 'inspect',
    description: "List a policy's rules, with what it extends, in evaluation order",
  },
  args: {
    policy: policyFileArg,
    json: { type: 'boolean', description: 'Print the policy as JSON on stdout' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const loaded = loadPolicyFile(context.args.policy, runtime);
    if (!loaded.ok) {
      reportIssues(runtime, loaded.issues);
      return ExitCode.failure;
    }
    reportIssues(runtime, loaded.warnings);
    if (context.args.json === true) runtime.printJson(policyJson(loaded.policy));
    else printPolicy(runtime, loaded.policy);
    return ExitCode.ok;
  },
});

/** Each rule with the name of the policy it came from, in evaluation order. */
function rulesOf(policy: ResolvedPolicy): { rule: RuleDocument; from: string }[] {
  return policy.policies.flatMap((part) => part.rules.map((rule) => ({ rule, from: part.name })));
}

function printPolicy(runtime: Runtime, policy: ResolvedPolicy): void {
  const root = policy.policies[0];
  const rules = rulesOf(policy);
  runtime.print(`Policy: ${policy.name}`);
  if (root?.description !== undefined) runtime.print(`Description: ${root.description}`);
  runtime.print(`Version: ${policy.version}`);
  runtime.print(`Rules (${rules.length}):`);
  for (const { rule } of rules) {
    const description = rule.description === undefined ? '' : ` ${rule.description}`;
    runtime.print(`  [${rule.id}]${description} → ${effectText(runtime, rule)}`);
  }
  if (policy.defaultOutcome === 'allow') {
    runtime.print('Default: ALLOW (default_outcome: allow, rule _default_allow)');
  }
}

/** The Rust CLI's wording: ALLOW, DENY — reason, APPROVE — reason. */
function effectText(runtime: Runtime, rule: RuleDocument): string {
  const paint = runtime.colors.stdout;
  switch (rule.effect.type) {
    case 'allow':
      return paint.green('ALLOW');
    case 'deny':
      return `${paint.red('DENY')} — ${rule.effect.reason}`;
    case 'require_approval':
      return `${paint.yellow('APPROVE')} — ${rule.effect.reason}`;
  }
}

function policyJson(policy: ResolvedPolicy): Record<string, unknown> {
  const root = policy.policies[0];
  return {
    name: policy.name,
    description: root?.description ?? null,
    version: policy.version,
    file: policy.file ?? null,
    extends: root?.extends ?? [],
    default_outcome: policy.defaultOutcome ?? null,
    policies: policy.policies.map((part) => ({
      name: part.name,
      version: part.version,
      file: part.file ?? null,
    })),
    rules: rulesOf(policy).map(({ rule, from }) => ({
      id: rule.id,
      description: rule.description ?? null,
      policy: from,
      match_on: rule.match_on,
      effect: { type: rule.effect.type, reason: rule.effect.reason ?? null },
    })),
  };
}
