import { describe, expect, it } from 'vitest';
import { memoryLoader, policyFrom, ruleYaml } from '../test/helpers.js';
import { createEngine, formatIssue, type PolicyLoader, resolvePolicy } from './index.js';

const named = (name: string, id: string, extendsList = '') =>
  `name: ${name}\nversion: "1"\n${extendsList}rules:\n  - id: ${id}\n    match_on: { resources: [${id}, shared] }\n    effect: { type: deny, reason: from ${name} }\n`;

describe('resolvePolicy', () => {
  it('puts its own rules first, then each base in order, recursively', () => {
    const loader = memoryLoader({
      alpha: named('alpha', 'alpha-rule', 'extends: [gamma]\n'),
      beta: named('beta', 'beta-rule'),
      gamma: named('gamma', 'gamma-rule'),
    });
    const result = resolvePolicy(
      policyFrom(named('child', 'child-rule', 'extends: [alpha, beta]\n')),
      loader,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.rules.map((rule) => rule.id)).toEqual([
      'child-rule',
      'alpha-rule',
      'gamma-rule',
      'beta-rule',
    ]);
    expect(result.policy.policies.map((policy) => policy.name)).toEqual([
      'child',
      'alpha',
      'gamma',
      'beta',
    ]);
    const engine = createEngine([result.policy]);
    expect(engine.evaluate({ resource: 'shared' })).toMatchObject({
      ruleId: 'child-rule',
      policy: 'child',
    });
    expect(engine.evaluate({ resource: 'gamma-rule' })).toMatchObject({
      ruleId: 'gamma-rule',
      policy: 'gamma',
    });
  });

  it('passes the extending file to the loader so it can resolve relative paths', () => {
    const calls: [string, string | undefined][] = [];
    const loader: PolicyLoader = {
      load(reference, from) {
        calls.push([reference, from]);
        return { ok: true, file: `/policies/${reference}`, text: named('base', 'b') };
      },
    };
    resolvePolicy(
      policyFrom(named('root', 'r', 'extends: [base.yaml]\n'), '/policies/root.yaml'),
      loader,
    );
    expect(calls).toEqual([['base.yaml', '/policies/root.yaml']]);
  });

  it('reports a missing extends target where it is written', () => {
    const result = resolvePolicy(
      policyFrom(named('root', 'r', 'extends: [default, ./nope.yaml]\n'), 'root.yaml'),
      memoryLoader({ default: named('d', 'd') }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map(formatIssue)).toEqual([
      'root.yaml:3:20: error: extends[1]: cannot load extends "./nope.yaml": no such file',
    ]);
  });

  it('names the whole cycle when policies extend each other', () => {
    const loader = memoryLoader({
      'a.yaml': named('a', 'a', 'extends: [b.yaml]\n'),
      'b.yaml': named('b', 'b', 'extends: [c.yaml]\n'),
      'c.yaml': named('c', 'c', 'extends: [a.yaml]\n'),
    });
    const result = resolvePolicy(
      policyFrom(named('a', 'a', 'extends: [b.yaml]\n'), 'a.yaml'),
      loader,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toMatchObject({ code: 'extends_cycle', file: 'c.yaml', line: 3 });
    expect(result.issues[0]!.message).toBe('extends cycle: a.yaml → b.yaml → c.yaml → a.yaml');
  });

  it('reports a policy that extends itself', () => {
    const loader = memoryLoader({ 'self.yaml': named('self', 's', 'extends: [self.yaml]\n') });
    const result = resolvePolicy(
      policyFrom(named('self', 's', 'extends: [self.yaml]\n'), 'self.yaml'),
      loader,
    );
    expect(!result.ok && result.issues[0]!.message).toBe('extends cycle: self.yaml → self.yaml');
  });

  it('reports problems inside an extended file with that file’s positions', () => {
    const loader = memoryLoader({
      'bad.yaml':
        'name: bad\nversion: "1"\nrules:\n  - id: x\n    match_on: { resourcez: [a] }\n    effect: { type: allow }\n',
    });
    const result = resolvePolicy(policyFrom(named('root', 'r', 'extends: [bad.yaml]\n')), loader);
    expect(!result.ok && result.issues.map(formatIssue)).toEqual([
      'bad.yaml:5:17: error: rules[0].match_on.resourcez: unknown key "resourcez" (did you mean "resources"?)',
    ]);
  });

  it('fails closed without a loader', () => {
    const result = resolvePolicy(policyFrom(named('root', 'r', 'extends: [default]\n')));
    expect(result.ok).toBe(false);
  });

  it('refuses to build an engine from a policy whose extends were not resolved', () => {
    expect(() => createEngine([policyFrom(named('root', 'r', 'extends: [default]\n'))])).toThrow(
      /resolvePolicy/,
    );
  });

  it('builds an engine straight from a policy without extends', () => {
    const engine = createEngine([policyFrom(ruleYaml('{ resources: [x] }'))]);
    expect(engine.evaluate({ resource: 'x' }).ruleId).toBe('r');
  });
});
