/**
 * A dotted field (`target.path`) the arguments give two different values: a key literally named
 * `target.path` and the nested `target` → `path`. The engine cannot know which one the server
 * reads, so when it comes to a rule that reads the field it denies the action as
 * `_ambiguous_field`, whatever that rule and the later ones say.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { engineFrom, engineOf, resolved, ruleYaml } from '../test/helpers.js';
import { type Action, ALL_OPERATORS, AMBIGUOUS_FIELD_RULE, createEngine } from './index.js';
import { jsonEquals } from './json.js';

const AMBIGUOUS = '_ambiguous_field';

/** The deny an action gets when the arguments give `field` two different values. */
function ambiguous(field: string) {
  return {
    type: 'deny',
    ruleId: AMBIGUOUS,
    reason: expect.stringContaining(`"${field}"`),
  };
}

/** Allows write_file when target.path is under /safe; everything else is denied by default. */
const SAFE_WRITES = ruleYaml(
  '{ resources: [write_file], conditions: [{ field: target.path, operator: path_under, value: /safe }] }',
  '{ type: allow }',
);

/** Denies guests; allows everything else. */
const NO_GUESTS = `name: roles
version: "1"
rules:
  - id: deny-guests
    match_on:
      conditions: [{ field: user.role, operator: equals, value: guest }]
    effect: { type: deny, reason: guests may not do this }
  - id: allow-rest
    match_on: {}
    effect: { type: allow }
`;

const write = (parameters: Record<string, unknown>): Action => ({
  resource: 'write_file',
  parameters,
});

describe('a dotted field the arguments give two different values', () => {
  it('denies a literal "target.path" under /safe beside a nested target.path outside it (allow rule)', () => {
    const engine = engineFrom(SAFE_WRITES);
    const smuggled = write({ 'target.path': '/safe/x', target: { path: '/etc/passwd' } });
    expect(engine.evaluate(smuggled)).toEqual(ambiguous('target.path'));
    // The other way round too, and the nested path alone is refused as before.
    expect(
      engine.evaluate(write({ 'target.path': '/etc/passwd', target: { path: '/safe/x' } })),
    ).toEqual(ambiguous('target.path'));
    expect(engine.evaluate(write({ target: { path: '/etc/passwd' } })).ruleId).toBe(
      '_default_deny',
    );
  });

  it('denies a literal "user.role" of admin beside a nested user.role of guest (deny rule)', () => {
    const engine = engineFrom(NO_GUESTS);
    const smuggled = {
      resource: 'x',
      parameters: { 'user.role': 'admin', user: { role: 'guest' } },
    };
    expect(engine.evaluate(smuggled)).toEqual(ambiguous('user.role'));
    expect(
      engine.evaluate({
        resource: 'x',
        parameters: { 'user.role': 'guest', user: { role: 'admin' } },
      }),
    ).toEqual(ambiguous('user.role'));
    // Type-strict, as equals is: 1 and "1" are two values.
    expect(
      engine.evaluate({ resource: 'x', parameters: { 'user.role': 1, user: { role: '1' } } }),
    ).toEqual(ambiguous('user.role'));
  });

  it('says why in the reason: the field, its two spellings, and that the server may read either', () => {
    const engine = engineFrom(SAFE_WRITES);
    const decision = engine.evaluate(
      write({ 'target.path': '/safe/x', target: { path: '/etc/passwd' } }),
    );
    expect(decision.reason).toBe(
      'denied: the arguments give "target.path" two different values, as a key of that name and nested (target → path); the server could act on either',
    );
    expect(decision.ruleId).toBe(AMBIGUOUS_FIELD_RULE);
    // The values are the caller's: the reason does not repeat them.
    expect(decision.reason).not.toContain('/etc/passwd');
  });

  it('decides as before when the key and the nested path hold JSON-equal values', () => {
    const safe = engineFrom(SAFE_WRITES);
    expect(
      safe.evaluate(write({ 'target.path': '/safe/x', target: { path: '/safe/x' } })),
    ).toMatchObject({ type: 'allow', ruleId: 'r' });
    expect(
      safe.evaluate(write({ 'target.path': '/etc/x', target: { path: '/etc/x' } })).ruleId,
    ).toBe('_default_deny');
    const roles = engineFrom(NO_GUESTS);
    const both = (role: unknown, nested: unknown) =>
      roles.evaluate({ resource: 'x', parameters: { 'user.role': role, user: { role: nested } } })
        .ruleId;
    expect(both('guest', 'guest')).toBe('deny-guests');
    expect(both('admin', 'admin')).toBe('allow-rest');
    // JSON equality: objects in another key order are the same value.
    expect(both({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe('allow-rest');
  });

  it('decides by the key alone, or by the nested path alone, as the Rust engine did', () => {
    const roles = engineFrom(NO_GUESTS);
    const decide = (parameters: Record<string, unknown>) =>
      roles.evaluate({ resource: 'x', parameters }).ruleId;
    expect(decide({ 'user.role': 'guest' })).toBe('deny-guests');
    expect(decide({ user: { role: 'guest' } })).toBe('deny-guests');
    expect(decide({ 'user.role': 'admin' })).toBe('allow-rest');
    expect(decide({ user: { role: 'admin' } })).toBe('allow-rest');
    // A nested walk that finds nothing leaves the key alone to decide.
    expect(decide({ 'user.role': 'guest', user: { name: 'g' } })).toBe('deny-guests');
    expect(decide({ 'user.role': 'guest', user: 'guest' })).toBe('deny-guests');
    expect(decide({ 'user.role': 'guest', user: ['guest'] })).toBe('deny-guests');
  });

  it.each([
    ['any', '{ any: [{ field: other, operator: exists }, ALLOWED] }'],
    ['all', '{ all: [{ field: other, operator: not_exists }, ALLOWED] }'],
    ['not', '{ not: { field: target.path, operator: path_under, value: /etc } }'],
    [
      'nested any/all/not',
      '{ not: { any: [{ all: [{ not: ALLOWED }] }, { field: x, operator: exists }] } }',
    ],
  ])('denies it when the field is read inside %s', (_what, condition) => {
    const allowed = '{ field: target.path, operator: path_under, value: /safe }';
    const engine = engineFrom(
      ruleYaml(
        `{ resources: [write_file], conditions: [${condition.replaceAll('ALLOWED', allowed)}] }`,
        '{ type: allow }',
      ),
    );
    const smuggled = write({ 'target.path': '/safe/x', target: { path: '/etc/passwd' } });
    expect(engine.evaluate(smuggled)).toEqual(ambiguous('target.path'));
  });

  // For each operator: a value, and arguments under which the condition holds on the key
  // `a.b` but not (or differently) on the nested a → b.
  const byOperator: Record<string, readonly [value: string, key: unknown, nested: unknown]> = {
    equals: ['x', 'x', 'y'],
    eq: ['x', 'x', 'y'],
    not_equals: ['x', 'y', 'x'],
    neq: ['x', 'y', 'x'],
    contains: ['x', 'axb', 'ab'],
    starts_with: ['x', 'xa', 'ax'],
    ends_with: ['x', 'ax', 'xa'],
    matches: ['"^x"', 'xa', 'ax'],
    greater_than: ['1', 2, 0],
    less_than: ['1', 0, 2],
    gt: ['1', 2, 0],
    lt: ['1', 0, 2],
    gte: ['1', 1, 0],
    lte: ['1', 1, 2],
    exists: ['null', 1, 2],
    not_exists: ['null', 1, 2],
    one_of: ['[x]', 'x', 'y'],
    in: ['[x]', 'x', 'y'],
    not_in: ['[x]', 'y', 'x'],
    in_domain: ['example.com', 'https://example.com', 'https://evil.com'],
    not_in_domain: ['evil.com', 'https://example.com', 'https://evil.com'],
    in_network: ['10.0.0.0/8', 'http://10.0.0.1', 'http://192.168.0.1'],
    not_in_network: ['10.0.0.0/8', 'http://192.168.0.1', 'http://10.0.0.1'],
    path_under: ['/safe', '/safe/x', '/etc/passwd'],
    path_not_under: ['/etc', '/safe/x', '/etc/passwd'],
    glob: ['"/safe/**"', '/safe/x', '/etc/passwd'],
    shell: ['{ program: [ls] }', 'rm -rf /', 'ls'],
  };

  it('has a case for every operator', () => {
    expect(Object.keys(byOperator).sort()).toEqual([...ALL_OPERATORS].sort());
  });

  it.each(Object.entries(byOperator))(
    'denies it whatever the operator: %s, even one that holds when the field is absent',
    (operator, [value, key, nested]) => {
      for (const effect of ['{ type: allow }', '{ type: deny, reason: no }']) {
        const engine = engineFrom(
          ruleYaml(
            `{ conditions: [{ field: a.b, operator: ${operator}, value: ${value} }] }`,
            effect,
          ),
        );
        expect(
          engine.evaluate({ resource: 't', parameters: { 'a.b': key, a: { b: nested } } }),
        ).toEqual(ambiguous('a.b'));
        // Each spelling alone decides as the field's value would.
        const alone = engine.evaluate({ resource: 't', parameters: { 'a.b': key } });
        expect(engine.evaluate({ resource: 't', parameters: { a: { b: key } } })).toEqual(alone);
      }
    },
  );

  it('lets a rule before the first that reads the field decide: its decision cannot depend on it', () => {
    const engine = engineFrom(
      SAFE_WRITES.replace(
        'rules:\n',
        'rules:\n  - id: allow-dry-runs\n    match_on: { resources: [write_file], conditions: [{ field: dry_run, operator: eq, value: true }] }\n    effect: { type: allow }\n',
      ),
    );
    const twoWays = { 'target.path': '/safe/x', target: { path: '/etc/passwd' } };
    expect(engine.evaluate(write({ ...twoWays, dry_run: true })).ruleId).toBe('allow-dry-runs');
    expect(engine.evaluate(write({ ...twoWays, dry_run: false }))).toEqual(
      ambiguous('target.path'),
    );
  });

  it('looks only at dotted fields that rules for this action name', () => {
    const engine = engineFrom(
      SAFE_WRITES.replace(
        'rules:\n',
        'rules:\n  - id: allow-reads\n    match_on: { resources: [read_file] }\n    effect: { type: allow }\n',
      ),
    );
    const twoWays = { 'target.path': '/safe/x', target: { path: '/etc/passwd' } };
    // Only write_file's rule reads target.path; read_file is decided as before.
    expect(engine.evaluate({ resource: 'read_file', parameters: twoWays }).ruleId).toBe(
      'allow-reads',
    );
    expect(engine.evaluate(write(twoWays))).toEqual(ambiguous('target.path'));
  });

  it('names the field in a deeper path and in a second policy', () => {
    const engine = engineFrom(
      ruleYaml('{ resources: [other] }', '{ type: allow }'),
      ruleYaml(
        '{ conditions: [{ field: a.b.c, operator: eq, value: 1 }] }',
        '{ type: deny, reason: no }',
      ),
    );
    expect(
      engine.evaluate({ resource: 't', parameters: { 'a.b.c': 2, a: { b: { c: 1 } } } }),
    ).toEqual(ambiguous('a.b.c'));
    expect(
      engine.evaluate({ resource: 't', parameters: { 'a.b.c': 1, a: { b: { c: 1 } } } }).ruleId,
    ).toBe('r');
  });

  it('explains, with and without the memo, the decision evaluate makes', () => {
    const yaml = SAFE_WRITES;
    const smuggled = write({ 'target.path': '/safe/x', target: { path: '/etc/passwd' } });
    for (const engine of [engineFrom(yaml), createEngine([resolved(yaml)], { cacheSize: 0 })]) {
      for (let i = 0; i < 2; i++) {
        expect(engine.evaluate(smuggled)).toEqual(ambiguous('target.path'));
        expect(engine.explain(smuggled)).toEqual({ decision: ambiguous('target.path'), rules: [] });
        expect(engine.evaluate(write({ target: { path: '/safe/x' } })).ruleId).toBe('r');
      }
    }
  });

  it('keeps alwaysDenies as it was: the names alone decide it, and its denies still hold', () => {
    const engine = engineFrom(SAFE_WRITES);
    expect(engine.alwaysDenies({ resource: 'write_file' })).toBeUndefined();
    expect(engine.alwaysDenies({ resource: 'read_file' })).toMatchObject({
      ruleId: '_default_deny',
    });
    // A tool only argument-dependent denies match: denied whatever the arguments, ambiguous too.
    const denies = engineFrom(
      ruleYaml(
        '{ resources: [rm], conditions: [{ field: target.path, operator: path_under, value: /etc }] }',
      ),
    );
    expect(denies.alwaysDenies({ resource: 'rm' })).toMatchObject({ ruleId: '_default_deny' });
    const twoWays = { 'target.path': '/etc/x', target: { path: '/tmp/x' } };
    expect(denies.evaluate({ resource: 'rm', parameters: twoWays })).toEqual(
      ambiguous('target.path'),
    );
  });
});

// Generated rules reading `a.b` or `other` (inside any/all/not too) against arguments that
// hold a.b as a key, nested, both or neither. Two different values are denied as ambiguous once
// evaluation comes to a rule that reads a.b; whatever the engine decides otherwise is what the
// policy says for either value alone.

const VALUES = ['x', 'y', 1, '1', null, true, { k: 1, j: [1, 2] }, { j: [1, 2], k: 1 }, [1]];

const leaf = fc.oneof(
  fc.record({
    field: fc.constant('a.b'),
    operator: fc.constantFrom('eq', 'neq'),
    value: fc.constantFrom(...VALUES),
  }),
  fc.record({ field: fc.constant('a.b'), operator: fc.constantFrom('exists', 'not_exists') }),
  fc.record({
    field: fc.constant('a.b'),
    operator: fc.constantFrom('in', 'not_in'),
    value: fc.subarray(VALUES, { minLength: 1 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      field: fc.constant('other'),
      operator: fc.constantFrom('exists', 'not_exists'),
    }),
  },
);
const { condition } = fc.letrec((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ any: fc.array(tie('condition'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ all: fc.array(tie('condition'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ not: tie('condition') }),
  ),
}));
const rules = fc
  .array(
    fc.record({
      match_on: fc.record({ conditions: fc.array(condition, { minLength: 1, maxLength: 2 }) }),
      effect: fc.oneof(
        fc.constant({ type: 'allow' }),
        fc.constant({ type: 'deny', reason: 'no' }),
        fc.constant({ type: 'require_approval', reason: 'ask' }),
      ),
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((list) => list.map((rule, index) => ({ id: `rule-${index}`, ...rule })));

type Condition =
  | { field: string; operator: string; value?: unknown }
  | { any: Condition[] }
  | { all: Condition[] }
  | { not: Condition };
type GeneratedRule = {
  id: string;
  match_on: { conditions: Condition[] };
  effect: { type: 'allow' | 'deny' | 'require_approval' };
};

/** A condition that reads only `other` (exists / not_exists), for arguments with or without it. */
function holdsOnOther(condition: Condition, other: boolean): boolean {
  if ('any' in condition) return condition.any.some((inner) => holdsOnOther(inner, other));
  if ('all' in condition) return condition.all.every((inner) => holdsOnOther(inner, other));
  if ('not' in condition) return !holdsOnOther(condition.not, other);
  return condition.operator === 'exists' ? other : !other;
}

/** The spec for a.b given two different values: rules in order, the first to read a.b denies. */
function referenceForTwoValues(ruleList: readonly GeneratedRule[], other: boolean) {
  for (const rule of ruleList) {
    if (JSON.stringify(rule).includes('"a.b"')) return ambiguous('a.b');
    if (rule.match_on.conditions.every((condition) => holdsOnOther(condition, other))) {
      return expect.objectContaining({ type: rule.effect.type, ruleId: rule.id });
    }
  }
  return expect.objectContaining({ type: 'deny', ruleId: '_default_deny' });
}

const NOTHING = Symbol('nothing');
const spelling = fc.oneof(fc.constant(NOTHING), fc.constantFrom(...VALUES));
const argumentShapes = fc.record({
  key: spelling,
  nested: spelling,
  // What `a` holds when the nested walk finds nothing: no `a`, or an `a` without `b`.
  emptyA: fc.constantFrom(NOTHING, {}, 'text', ['b']),
  other: fc.boolean(),
});

describe('dotted field properties', () => {
  it('denies two different values where a rule would read them, else decides as for one value', () => {
    fc.assert(
      fc.property(rules, argumentShapes, (generated, { key, nested, emptyA, other }) => {
        const ruleList = generated as GeneratedRule[];
        const engine = engineOf(ruleList);
        const decide = (parameters: Record<string, unknown>) =>
          engine.evaluate({ resource: 't', parameters });
        const base: Record<string, unknown> = other ? { other: 1 } : {};
        const parameters = { ...base };
        if (key !== NOTHING) parameters['a.b'] = key;
        if (nested !== NOTHING) parameters.a = { b: nested };
        else if (emptyA !== NOTHING) parameters.a = emptyA;
        const decision = decide(parameters);
        expect(engine.explain({ resource: 't', parameters }).decision).toEqual(decision);

        if (key !== NOTHING && nested !== NOTHING && !jsonEquals(key, nested)) {
          expect(decision).toEqual(referenceForTwoValues(ruleList, other));
          // Any other answer is the policy's for the key alone and for the nested value alone.
          if (decision.ruleId !== AMBIGUOUS) {
            expect(decision).toEqual(decide({ ...base, 'a.b': key }));
            expect(decision).toEqual(decide({ ...base, a: { b: nested } }));
          }
          return;
        }
        const value = key !== NOTHING ? key : nested;
        const asKey = value === NOTHING ? base : { ...base, 'a.b': value };
        const asNested = value === NOTHING ? base : { ...base, a: { b: value } };
        expect(decision).toEqual(decide(asKey));
        expect(decision).toEqual(decide(asNested));
        expect(decision.ruleId).not.toBe(AMBIGUOUS);
      }),
      { seed: 20261207, numRuns: 1500 },
    );
  });
});
