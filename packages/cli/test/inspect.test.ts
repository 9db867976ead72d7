import { describe, expect, it } from 'vitest';
import { kvlar, POLICY, tempDir } from './helpers.js';

const BASE = `name: base
description: The base
version: "0.9"
rules:
  - id: base-deny
    description: From the base
    match_on: {}
    effect: { type: deny, reason: base says no }
`;

const CHILD = `name: child
version: "2"
extends: [base.yaml]
default_outcome: allow
rules:
  - id: child-allow
    match_on: { resources: [ok] }
    effect: { type: allow }
`;

describe('kvlar inspect', () => {
  it('lists the rules with their effects in the Rust format', async () => {
    const dir = await tempDir({ 'p.yaml': POLICY });
    const result = await kvlar(['inspect', '-p', 'p.yaml'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: [
        'Policy: my-policy',
        'Description: Test policy',
        'Version: 1.0',
        'Rules (3):',
        '  [allow-read] Reads are fine → ALLOW',
        '  [deny-shell] No shell → DENY — shell is not allowed',
        '  [approve-write] → APPROVE — writes under /etc need a human',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('lists the rules of extended policies after its own, and notes default_outcome allow', async () => {
    const dir = await tempDir({ 'child.yaml': CHILD, 'base.yaml': BASE });
    const result = await kvlar(['inspect', '-p', 'child.yaml'], { cwd: dir });
    expect(result.stdout).toBe(
      [
        'Policy: child',
        'Version: 2',
        'Rules (2):',
        '  [child-allow] → ALLOW',
        '  [base-deny] From the base → DENY — base says no',
        'Default: ALLOW (default_outcome: allow, rule _default_allow)',
        '',
      ].join('\n'),
    );
  });

  it('prints --json with the policies loaded and each rule’s origin', async () => {
    const dir = await tempDir({ 'child.yaml': CHILD, 'base.yaml': BASE });
    const result = await kvlar(['inspect', '-p', 'child.yaml', '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      name: 'child',
      description: null,
      version: '2',
      file: 'child.yaml',
      extends: ['base.yaml'],
      default_outcome: 'allow',
      policies: [
        { name: 'child', version: '2', file: 'child.yaml' },
        { name: 'base', version: '0.9', file: 'base.yaml' },
      ],
      rules: [
        {
          id: 'child-allow',
          description: null,
          policy: 'child',
          match_on: { resources: ['ok'] },
          effect: { type: 'allow', reason: null },
        },
        {
          id: 'base-deny',
          description: 'From the base',
          policy: 'base',
          match_on: {},
          effect: { type: 'deny', reason: 'base says no' },
        },
      ],
    });
  });
});
