import { describe, expect, it } from 'vitest';
import { engineFrom, memoryLoader, resolved, ruleYaml } from '../test/helpers.js';
import { type Action, createEngine, DEFAULT_DENY_REASON, INVALID_ACTION_RULE } from './index.js';

const BASIC = `
name: basic
version: "1.0"
rules:
  - id: deny-bash
    description: Deny all bash commands
    match_on: { action_types: [tool_call], resources: [bash] }
    effect: { type: deny, reason: Bash commands are not allowed }
  - id: approve-email
    match_on: { resources: [send_email] }
    effect: { type: require_approval, reason: Email needs a human }
  - id: allow-read
    match_on: { resources: [read_file] }
    effect: { type: allow }
  - id: deny-rm-rf
    match_on: { resources: [bash], parameters: { command: "rm\\\\s+-rf" } }
    effect: { type: deny, reason: never reached }
`;

/** Whether a one-rule policy with this `match_on` matches the action. */
function ruleMatches(matchOn: string, action: Action): boolean {
  return engineFrom(ruleYaml(matchOn)).evaluate(action).ruleId === 'r';
}

describe('evaluate', () => {
  const engine = engineFrom(BASIC);

  it('returns the first matching rule as the decision', () => {
    expect(engine.evaluate({ resource: 'bash', parameters: { command: 'rm -rf /' } })).toEqual({
      type: 'deny',
      ruleId: 'deny-bash',
      reason: 'Bash commands are not allowed',
      policy: 'basic',
    });
    expect(engine.evaluate({ resource: 'send_email' })).toMatchObject({
      type: 'require_approval',
      ruleId: 'approve-email',
    });
    expect(engine.evaluate({ resource: 'read_file' })).toEqual({
      type: 'allow',
      ruleId: 'allow-read',
      policy: 'basic',
    });
  });

  it('denies what no rule matches, naming _default_deny', () => {
    expect(engine.evaluate({ actionType: 'data_access', resource: 'database' })).toEqual({
      type: 'deny',
      ruleId: '_default_deny',
      reason: DEFAULT_DENY_REASON,
    });
  });

  it('accepts a reason on allow, as the Rust Kvlar did, and decides without one', () => {
    const engine = engineFrom(ruleYaml('{}', '{ type: allow, reason: reads are fine }'));
    expect(engine.evaluate({ resource: 'x' })).toEqual({
      type: 'allow',
      ruleId: 'r',
      policy: 'test',
    });
  });

  it('denies with no policies at all', () => {
    expect(createEngine([]).evaluate({ resource: 'anything' }).ruleId).toBe('_default_deny');
  });

  it('checks later policies in load order, after every rule of the earlier ones', () => {
    const both = engineFrom(
      ruleYaml('{ resources: [bash] }'),
      `name: second\nversion: "1"\nrules:\n  - id: allow-all\n    match_on: {}\n    effect: { type: allow }\n`,
    );
    expect(both.evaluate({ resource: 'bash' }).ruleId).toBe('r');
    expect(both.evaluate({ resource: 'read_file' })).toMatchObject({
      type: 'allow',
      policy: 'second',
    });
  });

  it('denies an action it cannot classify rather than throwing', () => {
    const hostile = [
      { resource: 42 },
      { resource: 'x', parameters: [] },
      { resource: 'x', parameters: 'text' },
      { resource: 'x', agentId: null },
      null,
    ] as unknown as Action[];
    for (const action of hostile) {
      expect(engine.evaluate(action)).toMatchObject({ type: 'deny', ruleId: INVALID_ACTION_RULE });
    }
  });
});

describe('default_outcome', () => {
  const allowing = (rules: string) =>
    `name: open\nversion: "1"\ndefault_outcome: allow\nrules:${rules}\n`;

  it('allows what the policy did not match, as _default_allow at the end of its rules', () => {
    const engine = engineFrom(
      allowing(
        '\n  - id: no-bash\n    match_on: { resources: [bash] }\n    effect: { type: deny, reason: no }',
      ),
      ruleYaml('{}'),
    );
    expect(engine.evaluate({ resource: 'bash' }).ruleId).toBe('no-bash');
    expect(engine.evaluate({ resource: 'ls' })).toEqual({
      type: 'allow',
      ruleId: '_default_allow',
      policy: 'open',
    });
  });

  it('leaves a policy without rules a pass-through, as in the Rust engine', () => {
    const engine = engineFrom(allowing(' []'), ruleYaml('{ resources: [bash] }'));
    expect(engine.evaluate({ resource: 'bash' }).ruleId).toBe('r');
    expect(engine.evaluate({ resource: 'ls' }).ruleId).toBe('_default_deny');
  });

  it('treats default_outcome: deny as going on to the next policy', () => {
    const engine = engineFrom(
      `name: a\nversion: "1"\ndefault_outcome: deny\nrules:\n  - id: x\n    match_on: { resources: [x] }\n    effect: { type: allow }\n`,
      ruleYaml('{}', '{ type: allow }'),
    );
    expect(engine.evaluate({ resource: 'y' }).ruleId).toBe('r');
  });

  it('puts _default_allow after the rules of what the policy extends', () => {
    const loader = memoryLoader({ base: ruleYaml('{ resources: [bash] }') });
    const policy = resolved(allowing(' []\nextends: [base]'), loader);
    const engine = createEngine([policy]);
    expect(engine.evaluate({ resource: 'bash' }).ruleId).toBe('r');
    expect(engine.evaluate({ resource: 'ls' }).ruleId).toBe('_default_allow');
  });
});

describe('name patterns in match_on', () => {
  it('ANDs the keys and ORs the entries of one list', () => {
    const matchOn = '{ action_types: [tool_call], resources: [a, b], agent_ids: ["trusted-*"] }';
    expect(ruleMatches(matchOn, { resource: 'b', agentId: 'trusted-1' })).toBe(true);
    expect(ruleMatches(matchOn, { resource: 'c', agentId: 'trusted-1' })).toBe(false);
    expect(ruleMatches(matchOn, { resource: 'a', agentId: 'other' })).toBe(false);
    expect(
      ruleMatches(matchOn, { actionType: 'resource_read', resource: 'a', agentId: 'trusted-1' }),
    ).toBe(false);
  });

  it('matches everything with an empty match_on', () => {
    expect(ruleMatches('{}', { actionType: 'anything', resource: 'x', agentId: 'y' })).toBe(true);
  });

  it('defaults the action type to tool_call and the agent to the empty string', () => {
    expect(ruleMatches('{ action_types: [tool_call] }', { resource: 'x' })).toBe(true);
    expect(ruleMatches('{ agent_ids: ["?*"] }', { resource: 'x' })).toBe(false);
    expect(ruleMatches('{ agent_ids: ["*"] }', { resource: 'x' })).toBe(true);
  });

  it('matches servers only when the action names one', () => {
    const matchOn = '{ servers: ["github*"] }';
    expect(ruleMatches(matchOn, { resource: 'x', server: 'github-mcp' })).toBe(true);
    expect(ruleMatches(matchOn, { resource: 'x', server: 'slack' })).toBe(false);
    expect(ruleMatches(matchOn, { resource: 'x' })).toBe(false);
  });

  it('treats __proto__, constructor and toString as ordinary tool names', () => {
    const engine = engineFrom(ruleYaml('{ resources: [__proto__, constructor] }'));
    expect(engine.evaluate({ resource: '__proto__' }).ruleId).toBe('r');
    expect(engine.evaluate({ resource: 'constructor' }).ruleId).toBe('r');
    expect(engine.evaluate({ resource: 'toString' }).ruleId).toBe('_default_deny');
    expect(engine.evaluate({ resource: 'hasOwnProperty' }).ruleId).toBe('_default_deny');
  });

  it('does not confuse names that differ only where a memo key could collide', () => {
    const engine = engineFrom(ruleYaml('{ resources: ["a"], agent_ids: ["b c"] }'));
    expect(engine.evaluate({ resource: 'a', agentId: 'b c' }).ruleId).toBe('r');
    expect(engine.evaluate({ resource: 'a b', agentId: 'c' }).ruleId).toBe('_default_deny');
    expect(engine.evaluate({ resource: 'a', agentId: 'b c' }).ruleId).toBe('r');
  });
});

describe('parameters', () => {
  const matchOn = '{ parameters: { command: "rm\\\\s+-rf" } }';

  it('requires the argument to be present and searches it unanchored', () => {
    expect(ruleMatches(matchOn, { resource: 'x', parameters: { command: 'sudo rm  -rf /' } })).toBe(
      true,
    );
    expect(ruleMatches(matchOn, { resource: 'x', parameters: { command: 'ls' } })).toBe(false);
    expect(ruleMatches(matchOn, { resource: 'x', parameters: {} })).toBe(false);
    expect(ruleMatches(matchOn, { resource: 'x' })).toBe(false);
  });

  it('requires every listed argument', () => {
    const both = '{ parameters: { a: x, b: y } }';
    expect(ruleMatches(both, { resource: 't', parameters: { a: 'x', b: 'y' } })).toBe(true);
    expect(ruleMatches(both, { resource: 't', parameters: { a: 'x' } })).toBe(false);
  });

  it('tests non-string values as compact JSON with sorted keys, as serde_json printed them', () => {
    const on = (regex: string) => `{ parameters: { v: '${regex}' } }`;
    expect(ruleMatches(on('^42$'), { resource: 't', parameters: { v: 42 } })).toBe(true);
    expect(ruleMatches(on('^true$'), { resource: 't', parameters: { v: true } })).toBe(true);
    expect(ruleMatches(on('^null$'), { resource: 't', parameters: { v: null } })).toBe(true);
    expect(ruleMatches(on('^\\["a",1\\]$'), { resource: 't', parameters: { v: ['a', 1] } })).toBe(
      true,
    );
    expect(
      ruleMatches(on('^\\{"a":1,"b":\\{"c":2,"d":3\\}\\}$'), {
        resource: 't',
        parameters: { v: { b: { d: 3, c: 2 }, a: 1 } },
      }),
    ).toBe(true);
  });

  it('does not find inherited properties such as constructor or toString', () => {
    const on = '{ parameters: { constructor: ".*", toString: ".*" } }';
    expect(ruleMatches(on, { resource: 't', parameters: {} })).toBe(false);
    expect(
      ruleMatches(on, { resource: 't', parameters: { constructor: 'x', toString: 'y' } }),
    ).toBe(true);
  });

  it('keeps a __proto__ key in the policy instead of dropping it and matching everything', () => {
    const proto = JSON.parse('{"__proto__": "secret"}') as Record<string, unknown>;
    const on = '{ parameters: { __proto__: "^secret$" } }';
    expect(ruleMatches(on, { resource: 't', parameters: proto })).toBe(true);
    expect(ruleMatches(on, { resource: 't', parameters: {} })).toBe(false);
    expect(ruleMatches(on, { resource: 't', parameters: { other: 'secret' } })).toBe(false);
    const condition = '{ conditions: [{ field: o, operator: eq, value: { __proto__: 1 } }] }';
    expect(ruleMatches(condition, { resource: 't', parameters: { o: {} } })).toBe(false);
    expect(
      ruleMatches(condition, { resource: 't', parameters: { o: JSON.parse('{"__proto__": 1}') } }),
    ).toBe(true);
  });

  it('answers quickly on a 100 KB hostile argument against a catastrophic pattern', () => {
    const engine = engineFrom(ruleYaml('{ parameters: { input: "(a+)+$" } }'));
    const hostile = `${'a'.repeat(100_000)}!`;
    expect(engine.evaluate({ resource: 't', parameters: { input: hostile } }).ruleId).toBe(
      '_default_deny',
    );
    expect(engine.evaluate({ resource: 't', parameters: { input: 'aaa' } }).ruleId).toBe('r');
  });
});

describe('explain', () => {
  it('lists the rules considered up to the decisive one, with their checks', () => {
    const engine = engineFrom(BASIC);
    const explanation = engine.explain({ resource: 'read_file' });
    expect(explanation.decision.ruleId).toBe('allow-read');
    expect(explanation.rules.map((rule) => [rule.ruleId, rule.matched])).toEqual([
      ['deny-bash', false],
      ['approve-email', false],
      ['allow-read', true],
    ]);
    expect(explanation.rules[0]!.checks).toEqual([
      'action_types [tool_call] matches "tool_call"',
      'resources [bash] does not match "read_file"',
    ]);
  });

  it('considers every rule before a default deny', () => {
    const explanation = engineFrom(BASIC).explain({ resource: 'nothing' });
    expect(explanation.decision.ruleId).toBe('_default_deny');
    expect(explanation.rules).toHaveLength(4);
  });
});
