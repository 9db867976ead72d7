/** The engine against what a careless author or a hostile agent can hand it: size and odd names. */
import { describe, expect, it } from 'vitest';
import { engineFrom } from '../test/helpers.js';

function bigPolicy(rules: number): string {
  const lines = ['name: big', 'version: "1"', 'default_outcome: deny', 'rules:'];
  for (let i = 0; i < rules; i++) {
    lines.push(
      `  - id: rule-${i}`,
      `    match_on: { resources: ["tool_${i}"], conditions: [{ field: path, operator: starts_with, value: "/srv/${i}/" }] }`,
      `    effect: { type: ${i % 2 === 0 ? 'allow' : 'deny'}${i % 2 === 0 ? '' : `, reason: "no ${i}"`} }`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('a hostile or oversized policy', () => {
  it('loads a policy of 5,000 rules and decides by the right one, first to last', () => {
    const engine = engineFrom(bigPolicy(5000));
    const decide = (tool: string, path: string) =>
      engine.evaluate({ actionType: 'tool_call', resource: tool, parameters: { path } });
    expect(decide('tool_0', '/srv/0/a')).toMatchObject({ type: 'allow', ruleId: 'rule-0' });
    expect(decide('tool_4999', '/srv/4999/a')).toMatchObject({
      type: 'deny',
      ruleId: 'rule-4999',
    });
    expect(decide('tool_4998', '/srv/4998/x')).toMatchObject({
      type: 'allow',
      ruleId: 'rule-4998',
    });
    // The right tool with the wrong argument, and a tool no rule names: the default, deny.
    expect(decide('tool_4998', '/srv/1/x')).toMatchObject({
      type: 'deny',
      ruleId: '_default_deny',
    });
    expect(decide('tool_5000', '/srv/5000/x')).toMatchObject({ type: 'deny' });
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'treats %s as an ordinary tool name and argument key',
    (name) => {
      const engine = engineFrom(`
name: odd
version: "1"
default_outcome: deny
rules:
  - id: allow-it
    match_on:
      resources: ["${name}"]
      conditions: [{ field: "${name}", operator: equals, value: 1 }]
    effect: { type: allow }
`);
      const allowed = engine.evaluate({
        actionType: 'tool_call',
        resource: name,
        parameters: JSON.parse(`{"${name}": 1}`) as Record<string, unknown>,
      });
      expect(allowed).toMatchObject({ type: 'allow', ruleId: 'allow-it' });
      // Inherited members are not arguments: without its own key the condition fails.
      const missing = engine.evaluate({ actionType: 'tool_call', resource: name, parameters: {} });
      expect(missing).toMatchObject({ type: 'deny', ruleId: '_default_deny' });
      expect(
        engine.evaluate({ actionType: 'tool_call', resource: 'other', parameters: {} }),
      ).toMatchObject({ type: 'deny' });
    },
  );
});
