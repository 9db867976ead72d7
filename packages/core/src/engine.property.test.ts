/**
 * Properties of the engine over generated policies and actions (fixed seeds, so CI is
 * repeatable): decisions are deterministic and independent of the memo, agree with a naive
 * reference evaluator written from the spec, unmatched actions are denied, the first match wins.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Action,
  createEngine,
  type Decision,
  type PolicyDocument,
  validatePolicy,
} from './index.js';

const TOOLS = [
  'bash',
  'read_file',
  'read_text',
  'write_file',
  'db_x',
  'db_xy',
  '__proto__',
  'constructor',
  '😀x',
  'x😀',
];
const TOOL_PATTERNS = [
  ...TOOLS,
  'read_*',
  '*_file',
  'db_?',
  '[bw]*',
  '*',
  '😀*',
  '*😀',
  '?x*',
  '*_?',
];
const AGENTS = ['alice', 'bob', 'trusted-1'];
const AGENT_PATTERNS = [...AGENTS, 'trusted-*', '?ob'];
const REGEXES = ['rm', '^/etc', 'x$', '(?i)DROP', '\\d+'];
const VALUES = ['rm -rf /', '/etc/passwd', 'ls', 'drop table x', 'box', '42', 42, true, null];

type MatchOn = {
  resources?: string[];
  agent_ids?: string[];
  parameters?: Record<string, string>;
  conditions?: { field: string; operator: 'eq' | 'exists' | 'in'; value?: unknown }[];
};
type Rule = {
  id: string;
  match_on: MatchOn;
  effect: { type: 'allow' } | { type: 'deny' | 'require_approval'; reason: string };
};

const matchOn: fc.Arbitrary<MatchOn> = fc.record(
  {
    resources: fc.uniqueArray(fc.constantFrom(...TOOL_PATTERNS), { minLength: 1, maxLength: 3 }),
    agent_ids: fc.uniqueArray(fc.constantFrom(...AGENT_PATTERNS), { minLength: 1, maxLength: 2 }),
    parameters: fc.dictionary(fc.constantFrom('cmd', 'path'), fc.constantFrom(...REGEXES), {
      minKeys: 1,
      maxKeys: 2,
    }),
    conditions: fc.array(
      fc.oneof(
        fc.record({
          field: fc.constantFrom('cmd', 'path', 'n'),
          operator: fc.constant('eq' as const),
          value: fc.constantFrom(...VALUES),
        }),
        fc.record({
          field: fc.constantFrom('cmd', 'path', 'n'),
          operator: fc.constant('exists' as const),
        }),
        fc.record({
          field: fc.constantFrom('cmd', 'n'),
          operator: fc.constant('in' as const),
          value: fc.subarray(VALUES, { minLength: 1 }),
        }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  },
  { requiredKeys: [] },
);

const effect = fc.oneof(
  fc.constant({ type: 'allow' as const }),
  fc
    .constantFrom('deny' as const, 'require_approval' as const)
    .map((type) => ({ type, reason: `${type} by rule` })),
);

const rules: fc.Arbitrary<Rule[]> = fc
  .array(fc.record({ match_on: matchOn, effect }), { maxLength: 12 })
  .map((list) => list.map((rule, index) => ({ id: `rule-${index}`, ...rule })));

const action: fc.Arbitrary<Action> = fc.record({
  resource: fc.oneof(fc.constantFrom(...TOOLS), fc.string({ maxLength: 6 })),
  agentId: fc.constantFrom(...AGENTS, 'mallory'),
  parameters: fc.dictionary(
    fc.constantFrom('cmd', 'path', 'n', 'other'),
    fc.constantFrom(...VALUES),
    { maxKeys: 3 },
  ),
});

function engineOf(ruleList: readonly Rule[], cacheSize?: number) {
  const document = {
    name: 'generated',
    version: '1',
    rules: ruleList,
  } as unknown as PolicyDocument;
  const result = validatePolicy(document);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return createEngine([result.policy], cacheSize === undefined ? {} : { cacheSize });
}

// The reference: the spec read literally, with JS RegExps (fine on these short inputs).
function globToRegExp(pattern: string): RegExp {
  if (!/[*?[]/.test(pattern))
    return new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*') source += '[^\\n]*';
    else if (char === '?') source += '[^\\n]';
    else if (char === '[') {
      const end = pattern.indexOf(']', i);
      source += `[${pattern.slice(i + 1, end)}]`;
      i = end;
    } else source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

function reference(ruleList: readonly Rule[], input: Action): Pick<Decision, 'type' | 'ruleId'> {
  const parameters = input.parameters ?? {};
  const has = (key: string) => Object.hasOwn(parameters, key);
  for (const rule of ruleList) {
    const m = rule.match_on;
    if (m.resources && !m.resources.some((p) => globToRegExp(p).test(input.resource))) continue;
    if (m.agent_ids && !m.agent_ids.some((p) => globToRegExp(p).test(input.agentId ?? '')))
      continue;
    const paramsOk = Object.entries(m.parameters ?? {}).every(([key, regex]) => {
      if (!has(key)) return false;
      const value = parameters[key];
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const insensitive = regex.startsWith('(?i)');
      return new RegExp(insensitive ? regex.slice(4) : regex, insensitive ? 'i' : '').test(text);
    });
    if (!paramsOk) continue;
    const conditionsOk = (m.conditions ?? []).every((condition) => {
      if (condition.operator === 'exists') return has(condition.field);
      if (!has(condition.field)) return false;
      const value = parameters[condition.field];
      if (condition.operator === 'eq') return value === condition.value;
      return (condition.value as unknown[]).includes(value);
    });
    if (!conditionsOk) continue;
    return { type: rule.effect.type, ruleId: rule.id };
  }
  return { type: 'deny', ruleId: '_default_deny' };
}

const RUNS = { seed: 424242, numRuns: 400 };

describe('engine properties', () => {
  it('gives the same decision for the same input, with or without the memo', () => {
    fc.assert(
      fc.property(rules, fc.array(action, { minLength: 1, maxLength: 8 }), (ruleList, actions) => {
        const cached = engineOf(ruleList);
        const uncached = engineOf(ruleList, 0);
        for (const input of [...actions, ...actions]) {
          const decision = cached.evaluate(input);
          expect(decision).toEqual(uncached.evaluate(input));
          expect(decision).toEqual(engineOf(ruleList).evaluate(input));
          expect(decision).toEqual(cached.explain(input).decision);
        }
      }),
      RUNS,
    );
  });

  it('agrees with a naive reference evaluator written from the spec', () => {
    fc.assert(
      fc.property(rules, action, (ruleList, input) => {
        expect(engineOf(ruleList).evaluate(input)).toMatchObject(reference(ruleList, input));
      }),
      { ...RUNS, numRuns: 2000 },
    );
  });

  it('denies with _default_deny an action that no rule matches', () => {
    // Rules that name tools, none by a pattern that could match a `zz-` prefix.
    const unmatchable = rules.map((list) =>
      list.filter((rule) => rule.match_on.resources?.every((pattern) => !pattern.startsWith('*'))),
    );
    fc.assert(
      fc.property(unmatchable, action, (ruleList, input) => {
        const stranger = { ...input, resource: `zz-${input.resource}` };
        expect(engineOf(ruleList).evaluate(stranger)).toEqual(
          expect.objectContaining({ type: 'deny', ruleId: '_default_deny' }),
        );
      }),
      RUNS,
    );
  });

  it('lets the first matching rule win over every later one', () => {
    fc.assert(
      fc.property(rules, action, effect, (ruleList, input, first) => {
        const winner: Rule = {
          id: 'winner',
          match_on: { resources: [input.resource.replace(/[*?[]/g, '')] },
          effect: first,
        };
        fc.pre(winner.match_on.resources![0] === input.resource && input.resource !== '');
        const decision = engineOf([winner, ...ruleList]).evaluate(input);
        expect(decision).toMatchObject({ ruleId: 'winner', type: first.type });
        // And removing it hands the decision to whatever the rest say.
        expect(engineOf(ruleList).evaluate(input)).toMatchObject(reference(ruleList, input));
      }),
      RUNS,
    );
  });
});
