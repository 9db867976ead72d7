/**
 * Lint's claims checked against the real engine over generated policies and actions (fixed
 * seeds): whenever lint says a rule is shadowed, no action that rule matches reaches it; whenever
 * it says an allow hides a deny, the allow decides every call with the example's names that the
 * deny matches. And the name searches it stands on agree with the engine's own matcher.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineOf } from '../test/helpers.js';
import { type Action, createEngine, lintPolicy, resolvePolicy, validatePolicy } from './index.js';
import { findName, nameSetOf } from './lint-names.js';
import { compileNamePattern, type NamePattern } from './name-pattern.js';

const CHARS = ['a', 'b', '_', '\n', 'é', '😀'];
const TOKENS = [...CHARS, '*', '?', '[ab]', '[!a]', '[a-c]'];
const pattern = fc
  .array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 5 })
  .map((tokens) => tokens.join(''));
const name = fc.oneof(
  fc.array(fc.constantFrom(...CHARS, 'c', 'x'), { maxLength: 6 }).map((chars) => chars.join('')),
  fc.string({ maxLength: 4 }),
);

function compiled(source: string): NamePattern {
  const result = compileNamePattern(source);
  if (!result.ok) throw new Error(result.message);
  return result.pattern;
}

const inAny = (patterns: readonly NamePattern[], value: string) =>
  patterns.some((p) => p.test(value));

describe('name searches agree with the engine matcher', () => {
  it('a name found in P and not in Q is one; "none" means no sampled name is', () => {
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 2 }),
        fc.array(pattern, { maxLength: 3 }),
        fc.array(name, { minLength: 30, maxLength: 30 }),
        (inner, outer, samples) => {
          const p = inner.map(compiled);
          const q = outer.map(compiled);
          const search = findName([nameSetOf(p)], nameSetOf(q));
          if (search.kind === 'found') {
            expect(inAny(p, search.name) && !inAny(q, search.name)).toBe(true);
          } else if (search.kind === 'none') {
            for (const sample of samples) expect(inAny(p, sample) && !inAny(q, sample)).toBe(false);
          }
        },
      ),
      { seed: 20_260_101, numRuns: 2000 },
    );
  });

  it('a name found in both P and Q is in both; "none" means no sampled name is', () => {
    fc.assert(
      fc.property(
        pattern,
        pattern,
        fc.array(name, { minLength: 30, maxLength: 30 }),
        (a, b, samples) => {
          const p = compiled(a);
          const q = compiled(b);
          const search = findName([nameSetOf([p]), nameSetOf([q])]);
          if (search.kind === 'found')
            expect(p.test(search.name) && q.test(search.name)).toBe(true);
          else if (search.kind === 'none') {
            for (const sample of samples) expect(p.test(sample) && q.test(sample)).toBe(false);
          }
        },
      ),
      { seed: 20_260_102, numRuns: 2000 },
    );
  });
});

const RESOURCES = [
  'bash',
  'read_file',
  'write_file',
  'read_*',
  '*_file',
  '*',
  '?ead_file',
  '[rw]*',
  'a\nb',
  '[!x]',
];
const ACTION_TYPES = ['tool_call', '*', 'tool_*', 'resource_read'];
const AGENTS = ['*', 'bot-*', 'bot-1', 'alice'];
const SERVERS = ['fs', '*', 'f?'];
const CONDITIONS = [
  { field: 'n', operator: 'eq', value: 1 },
  { field: 'cmd', operator: 'exists' },
  { field: 'path', operator: 'starts_with', value: '/etc' },
];

const list = (items: readonly string[], max = 2) =>
  fc.uniqueArray(fc.constantFrom(...items), { minLength: 1, maxLength: max });
const matchOn = fc.record(
  {
    resources: list(RESOURCES, 3),
    action_types: list(ACTION_TYPES),
    agent_ids: list(AGENTS),
    servers: list(SERVERS),
    parameters: fc.dictionary(fc.constantFrom('cmd', 'path'), fc.constantFrom('rm', '^/etc'), {
      minKeys: 1,
      maxKeys: 1,
    }),
    conditions: fc.subarray(CONDITIONS, { minLength: 1, maxLength: 2 }),
  },
  { requiredKeys: [] },
);
const effect = fc.oneof(
  fc.constant({ type: 'allow' }),
  fc.constantFrom('deny', 'require_approval').map((type) => ({ type, reason: type })),
);
/**
 * Rules, some derived from an earlier one by one more (or one changed) key: random rules alone
 * seldom shadow each other, and derived ones often do, or nearly.
 */
const rules = fc
  .array(fc.record({ match_on: matchOn, effect, from: fc.option(fc.nat(5), { freq: 2 }) }), {
    minLength: 2,
    maxLength: 6,
  })
  .map((items) => {
    const built: { id: string; match_on: Record<string, unknown>; effect: unknown }[] = [];
    items.forEach((item, index) => {
      let match_on: Record<string, unknown> = item.match_on;
      if (item.from !== null && index > 0) {
        const tweak = Object.entries(item.match_on).slice(0, 1);
        match_on = { ...built[item.from % index]!.match_on, ...Object.fromEntries(tweak) };
      }
      built.push({ id: `r${index}`, match_on, effect: item.effect });
    });
    return built;
  });

const action: fc.Arbitrary<Action> = fc.record(
  {
    actionType: fc.constantFrom('tool_call', 'tool_x', 'resource_read', 'a\nb', ''),
    resource: fc.oneof(
      fc.constantFrom(
        'bash',
        'read_file',
        'write_file',
        'read_',
        '_file',
        'y',
        'a\nb',
        '\n',
        'ead_file',
      ),
      name,
    ),
    agentId: fc.constantFrom('bot-1', 'bot-2', 'alice', '', 'a\nb'),
    server: fc.constantFrom('fs', 'f1', 'x'),
    parameters: fc.dictionary(
      fc.constantFrom('cmd', 'path', 'n'),
      fc.constantFrom('rm -rf', '/etc/x', 1, 2, 'ls'),
      { maxKeys: 3 },
    ),
  },
  { requiredKeys: ['actionType', 'resource', 'agentId'] },
);

/** Arguments that satisfy every generated check, so that every rule can match. */
const EVERY_CHECK = { cmd: 'rm -rf', path: '/etc/x', n: 1 };

/** Names each rule admits in one dimension: pool values it matches, and a shortest one. */
function namesFor(patterns: readonly string[] | undefined, pool: readonly string[]): string[] {
  if (patterns === undefined) return [...pool];
  const compiledPatterns = patterns.map(compiled);
  const shortest = findName([nameSetOf(compiledPatterns)]);
  const names = pool.filter((value) => inAny(compiledPatterns, value));
  if (shortest.kind === 'found') names.push(shortest.name);
  return [...new Set(names)].slice(0, 3);
}

type GeneratedRule = { id: string; match_on: Record<string, string[] | undefined> };

/** Actions aimed at `rule`: combinations of names it admits, with each set of arguments. */
function aimedAt(rule: GeneratedRule, parameterSets: readonly Record<string, unknown>[]): Action[] {
  const m = rule.match_on;
  const servers: (string | undefined)[] =
    m.servers === undefined ? ['fs', undefined] : namesFor(m.servers, ['fs', 'f1', 'x']);
  const aimed: Action[] = [];
  for (const actionType of namesFor(m.action_types, ['tool_call', 'a\nb']))
    for (const resource of namesFor(m.resources, ['bash', 'read_file', 'y', '\n']))
      for (const agentId of namesFor(m.agent_ids, ['bot-1', '', 'a\nb']))
        for (const server of servers)
          for (const parameters of parameterSets)
            aimed.push({
              actionType,
              resource,
              agentId,
              ...(server === undefined ? {} : { server }),
              parameters,
            });
  return aimed;
}

/** `r3` → 3; `_default_deny` → after every rule. */
const order = (ruleId: string) => (ruleId.startsWith('r') ? Number(ruleId.slice(1)) : 99);

describe('lint claims hold in the engine', () => {
  it('a rule lint calls shadowed never decides; a deny an allow hides never decides the example', () => {
    const exercised = {
      shadowedFindings: 0,
      shadowed: 0,
      hiddenFindings: 0,
      hidden: 0,
      hiddenBehind: 0,
    };
    fc.assert(
      fc.property(
        rules,
        fc.array(action, { minLength: 40, maxLength: 40 }),
        (ruleList, actions) => {
          const validated = validatePolicy({ name: 'generated', version: '1', rules: ruleList });
          if (!validated.ok) throw new Error(JSON.stringify(validated.issues));
          const resolved = resolvePolicy(validated.policy);
          if (!resolved.ok) throw new Error(JSON.stringify(resolved.issues));
          const engine = createEngine([resolved.policy]);
          const parameterSets = [
            EVERY_CHECK,
            ...actions.slice(0, 4).map((a) => a.parameters ?? {}),
          ];
          for (const finding of lintPolicy(resolved.policy)) {
            exercised[finding.code === 'shadowed-rule' ? 'shadowedFindings' : 'hiddenFindings']++;
            const later = ruleList.find((rule) => rule.id === finding.ruleId)!;
            const alone = engineOf([later]);
            if (finding.code === 'shadowed-rule') {
              for (const candidate of [
                ...actions,
                ...aimedAt(later as GeneratedRule, parameterSets),
              ]) {
                if (alone.evaluate(candidate).ruleId !== later.id) continue;
                exercised.shadowed++;
                expect(engine.evaluate(candidate).ruleId).not.toBe(later.id);
              }
            } else if (finding.code === 'allow-hides-deny') {
              for (const parameters of [EVERY_CHECK, ...actions.map((a) => a.parameters ?? {})]) {
                const candidate = { ...finding.example!, parameters };
                if (alone.evaluate(candidate).ruleId !== later.id) continue;
                exercised.hidden++;
                // Decided by the allow, or by a rule before it: never by the deny.
                const decider = engine.evaluate(candidate).ruleId;
                expect(decider).not.toBe(later.id);
                expect(order(decider)).toBeLessThanOrEqual(order(finding.otherRuleId!));
                if (finding.message.includes('no earlier rule')) exercised.hiddenBehind++;
                else expect(decider).toBe(finding.otherRuleId);
              }
            }
          }
        },
      ),
      { seed: 20_260_103, numRuns: 500 },
    );
    // The property was not vacuous: lint made both claims, and actions tested them.
    expect(exercised.shadowedFindings).toBeGreaterThan(200);
    expect(exercised.shadowed).toBeGreaterThan(2000);
    expect(exercised.hiddenFindings).toBeGreaterThan(50);
    expect(exercised.hidden).toBeGreaterThan(100);
    expect(exercised.hiddenBehind).toBeGreaterThan(0);
  });
});
