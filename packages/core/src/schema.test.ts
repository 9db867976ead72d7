import { describe, expect, it } from 'vitest';
import { ALL_OPERATORS, policyJsonSchema } from './index.js';

describe('the policy JSON Schema', () => {
  it('is generated from the zod schema and committed as policy.schema.json', async () => {
    // `vitest -u` rewrites the committed file after a deliberate format change.
    await expect(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`).toMatchFileSnapshot(
      '../policy.schema.json',
    );
  });

  it('names every operator and forbids unknown keys', () => {
    const text = JSON.stringify(policyJsonSchema());
    for (const operator of ALL_OPERATORS) expect(text).toContain(`"${operator}"`);
    expect(policyJsonSchema()).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['name', 'version', 'rules'],
    });
  });
});

describe('the JSON Schema, checked by a real validator', () => {
  it('accepts valid policies and rejects what parsePolicy rejects', async () => {
    const { default: Ajv2020 } = await import('ajv/dist/2020.js');
    const validate = new Ajv2020({ strict: false }).compile(policyJsonSchema());
    const rule = (match_on: unknown, effect: unknown = { type: 'allow' }) => ({
      name: 'p',
      version: '1',
      rules: [{ id: 'a', match_on, effect }],
    });
    expect(
      validate(
        rule({
          resources: ['read_*'],
          conditions: [{ any: [{ field: 'p', operator: 'path_under', value: '/srv' }] }],
        }),
      ),
    ).toBe(true);
    expect(
      validate(
        rule({ conditions: [{ field: 'x', operator: 'exists' }] }, { type: 'deny', reason: 'r' }),
      ),
    ).toBe(true);
    expect(validate(rule({ resource: ['x'] }))).toBe(false);
    expect(validate(rule({ resources: [] }))).toBe(false);
    expect(validate(rule({ conditions: [{ field: 'x', operator: 'equalz', value: 1 }] }))).toBe(
      false,
    );
    expect(validate(rule({ conditions: [{ field: 'x', operator: 'gt', value: 'ten' }] }))).toBe(
      false,
    );
    expect(validate(rule({}, { type: 'deny' }))).toBe(false);
    const shell = (value: unknown) =>
      rule({ conditions: [{ field: 'c', operator: 'shell', value }] });
    expect(
      validate(shell({ program: ['rm'], flags: [['-r', '--recursive']], piped: 'command' })),
    ).toBe(true);
    expect(validate(shell({ args: 'none' }))).toBe(true);
    expect(validate(shell({}))).toBe(false);
    expect(validate(shell({ progam: ['rm'] }))).toBe(false);
    expect(validate(shell({ piped: 'yes' }))).toBe(false);
    expect(validate({ ...rule({}), version: 1 })).toBe(false);
  });
});
