import {
  type Action,
  createEngine,
  DEFAULT_DENY_RULE,
  type Decision,
  type Explanation,
  type RuleTrace,
} from '@kvlar/core';
import { defineCommand } from 'citty';
import { CliError, ExitCode } from '../errors.js';
import { loadPolicyFile, policyFileArg } from '../load-policy.js';
import { reportIssues } from '../report.js';
import { type Runtime, runtimeOf } from '../runtime.js';

export const evaluateCommand = defineCommand({
  meta: { name: 'evaluate', description: 'Show the decision a policy makes for one action' },
  args: {
    policy: policyFileArg,
    resource: {
      type: 'string',
      required: true,
      valueHint: 'tool',
      description: 'The tool name (resource) being called',
    },
    'action-type': {
      type: 'string',
      default: 'tool_call',
      valueHint: 'type',
      description: 'The action type',
    },
    'agent-id': {
      type: 'string',
      default: 'cli-test',
      valueHint: 'id',
      description: 'The agent making the call',
    },
    args: {
      type: 'string',
      valueHint: 'json',
      description: "The tool's arguments, as a JSON object",
    },
    server: { type: 'string', valueHint: 'name', description: "The MCP server's name" },
    json: { type: 'boolean', description: 'Print the decision as JSON on stdout' },
    explain: { type: 'boolean', description: 'Also show each rule considered and its checks' },
  },
  run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const parameters = parseArguments(args.args);
    const loaded = loadPolicyFile(args.policy, runtime);
    if (!loaded.ok) {
      reportIssues(runtime, loaded.issues);
      return ExitCode.failure;
    }
    reportIssues(runtime, loaded.warnings);
    const engine = createEngine([loaded.policy]);
    const action: Action = {
      actionType: args['action-type'],
      resource: args.resource,
      agentId: args['agent-id'],
      parameters,
      ...(args.server === undefined ? {} : { server: args.server }),
    };
    const explanation = args.explain === true ? engine.explain(action) : undefined;
    const decision = explanation?.decision ?? engine.evaluate(action);
    if (args.json === true) {
      runtime.printJson({
        ...decisionJson(decision),
        ...(explanation === undefined ? {} : { trace: explanation.rules.map(traceJson) }),
      });
    } else {
      printDecision(runtime, decision);
      if (explanation !== undefined) printTrace(runtime, explanation);
    }
    // A deny is an answer, not a failure: the Rust CLI exited 0 whatever the decision.
    return ExitCode.ok;
  },
});

function parseArguments(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new CliError('invalid_input', `--args is not valid JSON: ${why}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(
      'invalid_input',
      `--args must be a JSON object of arguments, e.g. --args '{"path": "/tmp/x"}'`,
    );
  }
  return value as Record<string, unknown>;
}

/** The decision as `--json` prints it; `kvlar serve` answers with the same shape. */
export function decisionJson(decision: Decision): Record<string, unknown> {
  return {
    decision: decision.type,
    rule_id: decision.ruleId,
    reason: decision.reason ?? null,
    policy: decision.policy ?? null,
  };
}

export function traceJson(trace: RuleTrace): Record<string, unknown> {
  return {
    rule_id: trace.ruleId,
    policy: trace.policy,
    matched: trace.matched,
    checks: trace.checks,
  };
}

/** The Rust CLI's lines, kept exactly: scripts grep them. */
function printDecision(runtime: Runtime, decision: Decision): void {
  const paint = runtime.colors.stdout;
  switch (decision.type) {
    case 'allow':
      runtime.print(`${paint.green('✓ ALLOW')} (rule: ${decision.ruleId})`);
      return;
    case 'deny':
      runtime.print(`${paint.red('✗ DENY')} (rule: ${decision.ruleId})`);
      runtime.print(`  Reason: ${decision.reason ?? ''}`);
      return;
    case 'require_approval':
      runtime.print(`${paint.yellow('⚠ REQUIRE APPROVAL')} (rule: ${decision.ruleId})`);
      runtime.print(`  Reason: ${decision.reason ?? ''}`);
      return;
  }
}

function printTrace(runtime: Runtime, { decision, rules }: Explanation): void {
  const paint = runtime.colors.stdout;
  runtime.print('');
  runtime.print(`Rules considered (${rules.length}):`);
  for (const rule of rules) {
    const mark = rule.matched ? paint.green('✓') : paint.dim('·');
    runtime.print(`  ${mark} ${rule.ruleId} (policy: ${rule.policy})`);
    for (const check of rule.checks) runtime.print(`      ${check}`);
  }
  // The engine denies some actions before any rule (_ambiguous_field): not a default deny.
  if (decision.ruleId === DEFAULT_DENY_RULE) {
    runtime.print('  no rule matched: denied by default');
  } else if (rules.length === 0) {
    runtime.print(`  none: the engine decided before any rule (${decision.ruleId})`);
  }
}
