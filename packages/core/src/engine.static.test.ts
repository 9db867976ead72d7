/**
 * The questions the proxy asks before it has arguments: `governs` (does a policy opt in to an
 * action type) and `alwaysDenies` (is a tool denied whatever its arguments).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineFrom, memoryLoader, resolved, ruleYaml } from '../test/helpers.js';
import {
  type Action,
  AMBIGUOUS_FIELD_RULE,
  createEngine,
  DEFAULT_DENY_REASON,
  INVALID_ACTION_RULE,
  type PolicyDocument,
  validatePolicy,
} from './index.js';

/** A policy named `name` whose rules are YAML list items, indented by four spaces. */
function policy(name: string, rules: string, header = ''): string {
  return `name: ${name}\nversion: "1"\n${header}rules:\n${rules}`;
}

const DEFAULT_DENY = { type: 'deny', ruleId: '_default_deny', reason: DEFAULT_DENY_REASON };

describe('governs', () => {
  it('is true for an action type a rule names literally', () => {
    const engine = engineFrom(ruleYaml('{ action_types: [resource_read, tool_call] }'));
    expect(engine.governs('resource_read')).toBe(true);
    expect(engine.governs('tool_call')).toBe(true);
    expect(engine.governs('prompt_get')).toBe(false);
    expect(engine.governs('resource_rea')).toBe(false);
  });

  it('counts glob patterns that match, such as resource_* and [rs]*', () => {
    const engine = engineFrom(
      policy(
        'globs',
        '  - id: a\n    match_on: { action_types: ["resource_*"] }\n    effect: { type: allow }\n' +
          '  - id: b\n    match_on: { action_types: ["[rs]*"] }\n    effect: { type: allow }\n',
      ),
    );
    expect(engine.governs('resource_read')).toBe(true);
    expect(engine.governs('sampling')).toBe(true);
    expect(engine.governs('roots_list')).toBe(true);
    expect(engine.governs('prompt_get')).toBe(false);
    expect(engine.governs('elicitation')).toBe(false);
  });

  it('does not count the bare catch-all *', () => {
    const engine = engineFrom(ruleYaml('{ action_types: ["*"] }', '{ type: allow }'));
    expect(engine.evaluate({ actionType: 'sampling', resource: 'x' }).ruleId).toBe('r');
    expect(engine.governs('sampling')).toBe(false);
    expect(engine.governs('tool_call')).toBe(false);
  });

  it('does not count rules without action_types, nor _default_allow', () => {
    const engine = engineFrom(
      policy(
        'open',
        '  - id: any\n    match_on: { resources: [x] }\n    effect: { type: allow }\n',
        'default_outcome: allow\n',
      ),
    );
    expect(engine.governs('tool_call')).toBe(false);
    expect(engine.governs('resource_read')).toBe(false);
  });

  it('looks at every policy and at what each extends', () => {
    const loader = memoryLoader({
      base: ruleYaml('{ action_types: [prompt_get] }'),
    });
    const engine = createEngine([
      resolved(policy('child', '  []\n', 'extends: [base]\n'), loader),
      resolved(ruleYaml('{ action_types: [sampling] }')),
    ]);
    expect(engine.governs('prompt_get')).toBe(true);
    expect(engine.governs('sampling')).toBe(true);
    expect(engine.governs('elicitation')).toBe(false);
  });

  it('governs nothing with no policies', () => {
    expect(createEngine([]).governs('tool_call')).toBe(false);
  });
});

describe('alwaysDenies', () => {
  it('denies by default what no rule matches', () => {
    expect(createEngine([]).alwaysDenies({ resource: 'anything' })).toEqual(DEFAULT_DENY);
    const engine = engineFrom(ruleYaml('{ resources: [other] }', '{ type: allow }'));
    expect(engine.alwaysDenies({ resource: 'bash' })).toEqual(DEFAULT_DENY);
    expect(engine.alwaysDenies({ resource: 'bash' })).toEqual(
      engine.evaluate({ resource: 'bash' }),
    );
  });

  it('returns the decision of a deny rule without argument checks, as evaluate does', () => {
    const engine = engineFrom(ruleYaml('{ resources: [bash] }', '{ type: deny, reason: no bash }'));
    const decision = engine.alwaysDenies({ resource: 'bash' });
    expect(decision).toEqual({ type: 'deny', ruleId: 'r', reason: 'no bash', policy: 'test' });
    expect(decision).toEqual(engine.evaluate({ resource: 'bash' }));
  });

  it('is undefined for a tool an unconditional allow rule reaches', () => {
    const engine = engineFrom(ruleYaml('{ resources: [read_file] }', '{ type: allow }'));
    expect(engine.alwaysDenies({ resource: 'read_file' })).toBeUndefined();
  });

  it('skips a deny that depends on arguments when an unconditional allow follows', () => {
    const engine = engineFrom(
      policy(
        'p',
        '  - id: no-rm\n    match_on: { resources: [bash], parameters: { command: rm } }\n' +
          '    effect: { type: deny, reason: no rm }\n' +
          '  - id: bash\n    match_on: { resources: [bash] }\n    effect: { type: allow }\n',
      ),
    );
    expect(engine.alwaysDenies({ resource: 'bash' })).toBeUndefined();
  });

  it('denies by default when only argument-dependent denies match', () => {
    const engine = engineFrom(
      policy(
        'p',
        '  - id: no-rm\n    match_on: { resources: [bash], parameters: { command: rm } }\n' +
          '    effect: { type: deny, reason: no rm }\n' +
          '  - id: no-root\n    match_on:\n      resources: [bash]\n' +
          '      conditions: [{ any: [{ field: user, operator: eq, value: root }, { not: { field: user, operator: exists } }] }]\n' +
          '    effect: { type: deny, reason: no root }\n',
      ),
    );
    expect(engine.alwaysDenies({ resource: 'bash' })).toEqual(DEFAULT_DENY);
  });

  it('is undefined when an allow depends on arguments', () => {
    const engine = engineFrom(
      ruleYaml('{ resources: [read_file], parameters: { path: "^/tmp/" } }', '{ type: allow }'),
    );
    expect(engine.alwaysDenies({ resource: 'read_file' })).toBeUndefined();
    expect(engine.evaluate({ resource: 'read_file', parameters: { path: '/tmp/x' } }).type).toBe(
      'allow',
    );
  });

  it('is undefined for require_approval, with or without argument checks', () => {
    const approve = '{ type: require_approval, reason: ask }';
    expect(
      engineFrom(ruleYaml('{ resources: [email] }', approve)).alwaysDenies({ resource: 'email' }),
    ).toBeUndefined();
    const conditional = ruleYaml(
      '{ resources: [email], conditions: [{ field: to, operator: ends_with, value: .com }] }',
      approve,
    );
    expect(engineFrom(conditional).alwaysDenies({ resource: 'email' })).toBeUndefined();
  });

  it('respects default_outcome: allow, and a deny rule before it', () => {
    const engine = engineFrom(
      policy(
        'open',
        '  - id: no-bash\n    match_on: { resources: [bash] }\n    effect: { type: deny, reason: no }\n',
        'default_outcome: allow\n',
      ),
    );
    expect(engine.alwaysDenies({ resource: 'ls' })).toBeUndefined();
    expect(engine.alwaysDenies({ resource: 'bash' })).toEqual({
      type: 'deny',
      ruleId: 'no-bash',
      reason: 'no',
      policy: 'open',
    });
  });

  it('applies agent_ids and servers, denying by default when they do not match', () => {
    const engine = engineFrom(
      ruleYaml('{ resources: [deploy], agent_ids: ["ci-*"], servers: [prod] }', '{ type: allow }'),
    );
    const action = { resource: 'deploy', agentId: 'ci-1', server: 'prod' };
    expect(engine.alwaysDenies(action)).toBeUndefined();
    expect(engine.alwaysDenies({ ...action, agentId: 'intern' })).toEqual(DEFAULT_DENY);
    expect(engine.alwaysDenies({ ...action, server: 'staging' })).toEqual(DEFAULT_DENY);
    expect(engine.alwaysDenies({ resource: 'deploy', agentId: 'ci-1' })).toEqual(DEFAULT_DENY);
  });

  it('applies action_types, defaulting to tool_call', () => {
    const engine = engineFrom(ruleYaml('{ action_types: [tool_call] }', '{ type: allow }'));
    expect(engine.alwaysDenies({ resource: 'x' })).toBeUndefined();
    expect(engine.alwaysDenies({ actionType: 'sampling', resource: 'x' })).toEqual(DEFAULT_DENY);
  });

  it('ignores arguments that come with the action', () => {
    const engine = engineFrom(ruleYaml('{ parameters: { a: x } }', '{ type: allow }'));
    const action = { resource: 't', parameters: 'not an object' } as unknown as Action;
    expect(engine.alwaysDenies(action)).toBeUndefined();
  });

  it('denies an action it cannot classify as evaluate does', () => {
    const engine = engineFrom(ruleYaml('{}', '{ type: allow }'));
    const hostile = [
      { resource: 42 },
      { resource: 'x', agentId: null },
      { resource: 'x', server: 1 },
      null,
    ] as unknown as Action[];
    for (const action of hostile) {
      expect(engine.alwaysDenies(action)).toEqual(engine.evaluate(action));
      expect(engine.alwaysDenies(action)).toMatchObject({ ruleId: INVALID_ACTION_RULE });
    }
  });

  it('gives the same answer from the memo as without it', () => {
    const yaml = policy(
      'p',
      '  - id: no-rm\n    match_on: { resources: [bash], parameters: { command: rm } }\n' +
        '    effect: { type: deny, reason: no rm }\n',
    );
    const cached = engineFrom(yaml);
    const uncached = createEngine([resolved(yaml)], { cacheSize: 0 });
    for (let i = 0; i < 2; i++) {
      expect(cached.alwaysDenies({ resource: 'bash' })).toEqual(DEFAULT_DENY);
      expect(uncached.alwaysDenies({ resource: 'bash' })).toEqual(DEFAULT_DENY);
      expect(cached.evaluate({ resource: 'bash', parameters: { command: 'rm' } }).ruleId).toBe(
        'no-rm',
      );
    }
  });
});

// Generated policies and arguments (fixed seed): alwaysDenies is never wrong about a deny.

const ACTION_TYPES = ['tool_call', 'resource_read', 'sampling'];
const TOOLS = ['bash', 'read_file', 'write_file', '__proto__'];
const AGENTS = ['alice', 'ci-1'];
const SERVERS = ['prod', 'staging'];
const KEYS = ['cmd', 'path', 'user', 'n', 'o', 'constructor'];
const SCALARS = ['rm -rf /', '/etc/passwd', 'root', 'ls', '42', 42, 0, -1.5, true, null];

const names = <T extends string>(values: readonly T[], patterns: readonly string[]) =>
  fc.uniqueArray(fc.constantFrom(...values, ...patterns), { minLength: 1, maxLength: 2 });

const leafCondition = fc.oneof(
  fc.record({
    field: fc.constantFrom(...KEYS, 'o.user'),
    operator: fc.constantFrom('eq', 'neq'),
    value: fc.constantFrom(...SCALARS),
  }),
  fc.record({
    field: fc.constantFrom(...KEYS, 'o.user'),
    operator: fc.constantFrom('exists', 'not_exists'),
  }),
  fc.record({
    field: fc.constantFrom(...KEYS),
    operator: fc.constantFrom('in', 'not_in'),
    value: fc.subarray(SCALARS, { minLength: 1 }),
  }),
  fc.record({
    field: fc.constantFrom('cmd', 'path'),
    operator: fc.constantFrom('contains', 'starts_with'),
    value: fc.constantFrom('rm', '/etc', 'ro'),
  }),
  fc.record({
    field: fc.constantFrom('n'),
    operator: fc.constantFrom('gt', 'lte'),
    value: fc.constantFrom(0, 10),
  }),
);
const { condition } = fc.letrec((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafCondition,
    fc.record({ any: fc.array(tie('condition'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ all: fc.array(tie('condition'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ not: tie('condition') }),
  ),
}));

const generatedRule = fc.record(
  {
    action_types: names(ACTION_TYPES, ['*', 'resource_*']),
    resources: names(TOOLS, ['*', '*_file', '[br]*']),
    agent_ids: names(AGENTS, ['ci-*']),
    servers: names(SERVERS, ['*']),
    parameters: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom('rm', '^/etc', '\\d'), {
      minKeys: 1,
      maxKeys: 2,
    }),
    conditions: fc.array(condition, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const effect = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: 'deny', reason: 'denied by rule' }) },
  fc.constant({ type: 'allow' }),
  fc.constant({ type: 'require_approval', reason: 'ask' }),
);

const generatedPolicy = fc.record({
  rules: fc.array(fc.record({ match_on: generatedRule, effect }), { maxLength: 8 }),
  allowByDefault: fc.boolean(),
});

const actionNames = fc.record(
  {
    actionType: fc.constantFrom(...ACTION_TYPES, 'prompt_get'),
    resource: fc.constantFrom(...TOOLS, 'ls'),
    agentId: fc.constantFrom(...AGENTS, 'mallory'),
    server: fc.constantFrom(...SERVERS),
  },
  { requiredKeys: ['resource'] },
);

const value = fc.oneof(
  fc.constantFrom(...SCALARS),
  fc.string({ maxLength: 8 }),
  fc.double({ noNaN: true }),
  fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...SCALARS), { maxKeys: 2 }),
  fc.jsonValue({ maxDepth: 2 }),
);
// `o.user` as a key too: beside an `o` holding `user`, the arguments give it two values.
const parameters = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS, 'o.user'), fc.string()), value, {
  maxKeys: 4,
});

describe('alwaysDenies properties', () => {
  it('never claims a deny that some arguments escape', () => {
    fc.assert(
      fc.property(
        fc.array(generatedPolicy, { minLength: 1, maxLength: 2 }),
        actionNames,
        fc.array(parameters, { minLength: 1, maxLength: 12 }),
        (generated, action, argumentSets) => {
          const dependsOnArguments = new Set<string>();
          const policies = generated.map(({ rules, allowByDefault }, p) => {
            const document = {
              name: `p${p}`,
              version: '1',
              ...(allowByDefault ? { default_outcome: 'allow' } : {}),
              rules: rules.map((rule, r) => {
                const id = `p${p}-r${r}`;
                if (rule.match_on.parameters || rule.match_on.conditions) {
                  dependsOnArguments.add(id);
                }
                return { id, ...rule };
              }),
            } as unknown as PolicyDocument;
            const result = validatePolicy(document);
            if (!result.ok) throw new Error(JSON.stringify(result.issues));
            return result.policy;
          });
          const engine = createEngine(policies);
          const denied = engine.alwaysDenies(action);
          expect(denied).toEqual(createEngine(policies, { cacheSize: 0 }).alwaysDenies(action));
          if (denied === undefined) return;
          expect(denied.type).toBe('deny');
          for (const argumentSet of [{}, ...argumentSets]) {
            const decision = engine.evaluate({ ...action, parameters: argumentSet });
            expect(decision.type).toBe('deny');
            // Either an argument-dependent deny got there first (a rule's, or the engine's for
            // an ambiguous dotted field), or the same rule decided.
            if (
              decision.ruleId !== AMBIGUOUS_FIELD_RULE &&
              !dependsOnArguments.has(decision.ruleId)
            ) {
              expect(decision).toEqual(denied);
            }
          }
        },
      ),
      { seed: 20240611, numRuns: 1500 },
    );
  });
});
