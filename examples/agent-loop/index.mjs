// @ts-check
// An agent host's tool-calling loop with Kvlar's engine inside it, no proxy: before running a
// tool the model asked for, the host asks @kvlar/core. An allow runs the tool; a deny goes back
// to the model as the tool's result; a require_approval asks a person (nobody to ask: refused).
// Every decision is written to a hash-chained audit trail, verified at the end.
//
// The "model" is a fixed script that says which decision each call must get: the run exits 1
// when one differs, so CI notices when a policy change moves a decision.
/** @import { AuditApproval, AuditEntry, AuditOutcome } from '@kvlar/audit' */
/** @import { Decision, DecisionType } from '@kvlar/core' */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createMemorySink, outcomeOf, serializeEvent, verifyChain } from '@kvlar/audit';
import { createFileLoader } from '@kvlar/cli';
import { createEngine, formatIssue, parsePolicy, resolvePolicy } from '@kvlar/core';

/**
 * @typedef {Readonly<Record<string, unknown>>} Args
 * @typedef {{ readonly tool: string, readonly args: Args }} ToolCall
 * @typedef {ToolCall & { readonly expect: DecisionType, readonly rule: string }} ScriptedCall
 * @typedef {{ readonly approved: boolean, readonly approver: string, readonly reason?: string }} Answer
 * @typedef {(call: ToolCall, decision: Decision) => Promise<Answer>} AskApproval
 */

// 1. The policy: read, resolved (`extends: [shell]`) and compiled once.
const here = fileURLToPath(new URL('.', import.meta.url));
const parsed = parsePolicy(readFileSync(`${here}policy.yaml`, 'utf8'), { file: 'policy.yaml' });
if (!parsed.ok) throw new Error(parsed.issues.map(formatIssue).join('\n'));
// Core does no I/O: `extends` is read by the loader the host passes. This is the one `kvlar`
// uses: a built-in template by name, else a path relative to the extending file.
const resolved = resolvePolicy(parsed.policy, createFileLoader({ cwd: here }));
if (!resolved.ok) throw new Error(resolved.issues.map(formatIssue).join('\n'));
const engine = createEngine([resolved.policy]);

// 2. The host's tools, in a Map: a model may name a tool `constructor` or `__proto__`.
const files = new Map([['/workspace/notes.md', '# Notes\n- TODO: write the changelog\n']]);
/** @type {Map<string, (args: Args) => string>} */
const tools = new Map([
  ['read_file', (args) => files.get(String(args.path)) ?? `no such file: ${args.path}`],
  [
    'write_file',
    (args) => {
      files.set(String(args.path), String(args.content));
      return `wrote ${String(args.content).length} characters to ${args.path}`;
    },
  ],
  // A real host would run the command in a sandbox; this example starts no processes.
  ['bash', (args) => `(simulated) $ ${args.command}`],
]);

// 3. What the model asks for, and what Kvlar must decide.
/** @type {readonly ScriptedCall[]} */
const script = [
  {
    tool: 'read_file',
    args: { path: '/workspace/notes.md' },
    expect: 'allow',
    rule: 'allow-read-workspace',
  },
  {
    tool: 'read_file',
    args: { path: '/workspace/../etc/shadow' },
    expect: 'deny',
    rule: 'deny-outside-workspace',
  },
  {
    tool: 'bash',
    args: { command: 'grep -c TODO notes.md' },
    expect: 'allow',
    rule: 'allow-shell-commands',
  },
  {
    tool: 'write_file',
    args: { path: '/workspace/CHANGELOG.md', content: '## 0.1.0\n- first release\n' },
    expect: 'require_approval',
    rule: 'approve-write-workspace',
  },
  {
    tool: 'bash',
    args: { command: 'npm install left-pad' },
    expect: 'require_approval',
    rule: 'approve-npm-install',
  },
  { tool: 'bash', args: { command: 'rm -r -f /' }, expect: 'deny', rule: 'deny-rm-rf' },
  {
    tool: 'send_email',
    args: { to: 'everyone@example.com', body: 'done!' },
    expect: 'deny',
    rule: '_default_deny',
  },
];

/**
 * Who answers approvals when the host configured nobody: refused (fail-closed).
 * @type {AskApproval}
 */
const refuseAll = async () => ({ approved: false, approver: 'kvlar', reason: 'nobody to ask' });

/**
 * The person at the keyboard, scripted: yes to files, no to new dependencies.
 * @type {AskApproval}
 */
const alice = async (call) =>
  call.tool === 'write_file'
    ? { approved: true, approver: 'alice' }
    : { approved: false, approver: 'alice', reason: 'no new dependencies today' };

// 4. The audit trail. A memory sink here; createJsonlSink({ path }) keeps the same chain on disk.
const audit = createMemorySink();
const session = randomUUID();
// Named and hashed as kvlar proxy does, so a record says which exact policy decided.
const policy = {
  name: engine.policies.map((p) => p.name).join('+'),
  version: engine.policies.map((p) => p.version).join('+'),
  hash: createHash('sha256').update(JSON.stringify(engine.policies)).digest('hex'),
};

/**
 * Writes one record. A record that cannot be written makes the call a deny: a tool never runs
 * unaudited.
 * @param {ToolCall} call
 * @param {Decision} decision
 * @param {AuditOutcome} outcome
 * @param {AuditApproval} [approval]
 * @returns {Promise<boolean>} whether the record was written
 */
async function record(call, decision, outcome, approval) {
  /** @type {AuditEntry} */
  const entry = {
    action_type: 'tool_call',
    resource: call.tool,
    agent_id: 'coding-agent',
    outcome,
    matched_rule: decision.ruleId,
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    parameters: call.args,
    session,
    server: 'local',
    policy,
    ...(approval === undefined ? {} : { approval }),
  };
  try {
    await audit.write(entry);
    return true;
  } catch (error) {
    console.error(`audit write failed: ${error instanceof Error ? error.message : error}`);
    return false;
  }
}

/**
 * One turn of the loop: decide, record, and then run the tool or tell the model why not.
 * @param {ToolCall} call
 * @param {AskApproval} askApproval
 * @returns {Promise<{ decision: Decision, ran: boolean, result: string, note: string }>}
 */
async function handleToolCall(call, askApproval = refuseAll) {
  const decision = engine.evaluate({ resource: call.tool, parameters: call.args });
  const refused = (/** @type {string} */ reason, note = '') => ({
    decision,
    ran: false,
    result: `[denied by policy] ${reason}`,
    note,
  });
  if (!(await record(call, decision, outcomeOf(decision.type)))) {
    return refused('the audit trail could not record it');
  }
  if (decision.type === 'deny') return refused(decision.reason ?? 'denied');

  let note = '';
  if (decision.type === 'require_approval') {
    const started = Date.now();
    /** @type {Answer} */
    let answer;
    try {
      answer = await askApproval(call, decision);
    } catch {
      answer = { approved: false, approver: 'kvlar', reason: 'the approver failed' };
    }
    const outcome = answer.approved ? 'allowed' : 'denied';
    note = answer.approved ? `${answer.approver} approved` : `${answer.approver} refused`;
    const written = await record(call, decision, outcome, {
      approver: answer.approver,
      channel: 'terminal',
      decision: answer.approved ? 'approved' : 'denied',
      latency_ms: Date.now() - started,
    });
    if (!written) return refused('the audit trail could not record the approval', note);
    if (!answer.approved) return refused(answer.reason ?? 'a person refused it', note);
  }

  const tool = tools.get(call.tool);
  if (tool === undefined) return refused('the host has no such tool', note);
  return { decision, ran: true, result: tool(call.args), note };
}

/** @param {string} text */
const brief = (text) => {
  const line = text.replaceAll('\n', ' ').trim();
  return line.length > 72 ? `${line.slice(0, 71)}…` : line;
};

// 5. The loop. Whatever happened, the model gets a tool result to read on its next turn.
/** @type {string[]} */
const drift = [];
console.log(`policy ${policy.name} (${engine.ruleCount} rules)`);
for (const [index, call] of script.entries()) {
  const { decision, ran, result, note } = await handleToolCall(call, alice);

  console.log(`${index + 1}. ${call.tool} ${JSON.stringify(call.args)}`);
  const approval = note === '' ? '' : `, ${note}`;
  console.log(`   ${decision.type} (${decision.ruleId}${approval})`);
  console.log(`   ${ran ? 'ran, model reads' : 'not run, model reads'}: ${brief(result)}`);
  if (decision.type !== call.expect || decision.ruleId !== call.rule) {
    drift.push(
      `${call.tool}: expected ${call.expect} (${call.rule}), got ${decision.type} (${decision.ruleId})`,
    );
  }
}

// 6. The audit chain verifies, and editing a record after the fact is found.
const lines = audit.events.map(serializeEvent);
const verified = verifyChain(lines);
console.log(
  verified.ok
    ? `audit: ${verified.records} records, hash chain verified`
    : `audit: chain broken at line ${verified.failure.line}: ${verified.failure.message}`,
);
if (!verified.ok) drift.push('the audit chain does not verify');
const forgedAt = lines.findIndex((line) => line.includes('"resource":"send_email"'));
const forged = lines.map((line, index) =>
  index === forgedAt ? line.replace('"outcome":"denied"', '"outcome":"allowed"') : line,
);
const tampered = verifyChain(forged);
console.log(
  tampered.ok
    ? 'audit: a forged record went unnoticed'
    : `audit: a forged record is caught at line ${tampered.failure.line} (${tampered.failure.reason})`,
);
if (tampered.ok) drift.push('the forged audit record verified');
await audit.close();

if (drift.length > 0) {
  for (const line of drift) console.error(`unexpected: ${line}`);
  process.exitCode = 1;
} else {
  console.log(`${script.length} calls, every decision as expected`);
}
