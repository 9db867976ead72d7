import { describe, expect, it } from 'vitest';
import { engineFrom, ruleYaml } from '../test/helpers.js';

/** Whether `conditions: [condition]` holds for these arguments. */
function holds(condition: string, parameters: Record<string, unknown>): boolean {
  const engine = engineFrom(ruleYaml(`{ conditions: [${condition}] }`));
  return engine.evaluate({ resource: 't', parameters }).ruleId === 'r';
}

type Case = readonly [condition: string, parameters: Record<string, unknown>, expected: boolean];

const cases: Record<string, readonly Case[]> = {
  'equals / eq (type-strict JSON equality)': [
    ['{ field: role, operator: equals, value: admin }', { role: 'admin' }, true],
    ['{ field: role, operator: eq, value: admin }', { role: 'Admin' }, false],
    ['{ field: n, operator: eq, value: 1 }', { n: 1 }, true],
    ['{ field: n, operator: eq, value: "1" }', { n: 1 }, false],
    ['{ field: o, operator: eq, value: { a: 1, b: [1, 2] } }', { o: { b: [1, 2], a: 1 } }, true],
    ['{ field: o, operator: eq, value: [1, 2] }', { o: [2, 1] }, false],
    ['{ field: x, operator: eq, value: null }', { x: null }, true],
    ['{ field: x, operator: eq, value: null }', {}, false],
    ['{ field: role, operator: eq, value: ADMIN, ignore_case: true }', { role: 'admin' }, true],
  ],
  'not_equals / neq (the field must be present)': [
    ['{ field: role, operator: not_equals, value: admin }', { role: 'user' }, true],
    ['{ field: role, operator: neq, value: admin }', { role: 'admin' }, false],
    ['{ field: role, operator: neq, value: admin }', {}, false],
    ['{ field: role, operator: neq, value: ADMIN, ignore_case: true }', { role: 'admin' }, false],
  ],
  'contains / starts_with / ends_with (strings)': [
    ['{ field: cmd, operator: contains, value: secret }', { cmd: 'cat /tmp/secret.txt' }, true],
    ['{ field: cmd, operator: contains, value: secret }', { cmd: 'ls' }, false],
    [
      '{ field: cmd, operator: contains, value: SECRET, ignore_case: true }',
      { cmd: 'a secret' },
      true,
    ],
    ['{ field: p, operator: starts_with, value: /etc }', { p: '/etc/passwd' }, true],
    ['{ field: p, operator: starts_with, value: /etc }', { p: '/home/etc' }, false],
    ['{ field: p, operator: ends_with, value: .pem }', { p: 'key.pem' }, true],
    ['{ field: p, operator: ends_with, value: .PEM, ignore_case: true }', { p: 'key.pem' }, true],
    ['{ field: n, operator: contains, value: "1" }', { n: 12 }, false],
    ['{ field: n, operator: starts_with, value: "" }', { n: 12 }, true],
  ],
  'matches (regex search; a non-string field reads as "")': [
    ['{ field: p, operator: matches, value: "^/(etc|root|proc)/" }', { p: '/etc/shadow' }, true],
    ['{ field: p, operator: matches, value: "^/(etc|root|proc)/" }', { p: '/tmp/x' }, false],
    ['{ field: p, operator: matches, value: "^/ETC/", ignore_case: true }', { p: '/etc/x' }, true],
    ['{ field: p, operator: matches, value: "^$" }', { p: 5 }, true],
  ],
  'greater_than / less_than / gt / lt / gte / lte (numbers only)': [
    ['{ field: n, operator: greater_than, value: 10 }', { n: 11 }, true],
    ['{ field: n, operator: greater_than, value: 10 }', { n: 10 }, false],
    ['{ field: n, operator: greater_than, value: 10 }', { n: '11' }, false],
    ['{ field: n, operator: less_than, value: 10 }', { n: 9.5 }, true],
    ['{ field: n, operator: gt, value: 0 }', { n: 1 }, true],
    ['{ field: n, operator: lt, value: 0 }', { n: -1 }, true],
    ['{ field: n, operator: gte, value: 10 }', { n: 10 }, true],
    ['{ field: n, operator: gte, value: 10 }', { n: 9 }, false],
    ['{ field: n, operator: lte, value: 10 }', { n: 10 }, true],
    ['{ field: n, operator: lte, value: 10 }', {}, false],
  ],
  'exists / not_exists (value ignored)': [
    ['{ field: a, operator: exists }', { a: null }, true],
    ['{ field: a, operator: exists, value: null }', {}, false],
    ['{ field: a, operator: not_exists }', {}, true],
    ['{ field: a, operator: not_exists, value: whatever }', { a: 1 }, false],
    ['{ field: constructor, operator: exists }', {}, false],
    ['{ field: toString, operator: not_exists }', {}, true],
  ],
  'one_of / in / not_in (JSON membership; not_in holds when absent)': [
    ['{ field: m, operator: one_of, value: [GET, HEAD] }', { m: 'GET' }, true],
    ['{ field: m, operator: in, value: [DELETE, PUT] }', { m: 'GET' }, false],
    ['{ field: m, operator: in, value: [1, "2"] }', { m: 2 }, false],
    ['{ field: m, operator: in, value: [get], ignore_case: true }', { m: 'GET' }, true],
    ['{ field: m, operator: in, value: [{ a: 1 }, [1, 2]] }', { m: { a: 1 } }, true],
    ['{ field: m, operator: in, value: [{ a: 1 }, [1, 2]] }', { m: [1, 2] }, true],
    ['{ field: m, operator: in, value: [{ a: 1 }, null] }', { m: { a: 2 } }, false],
    ['{ field: m, operator: in, value: [{ a: 1 }, null] }', { m: null }, true],
    ['{ field: m, operator: not_in, value: [GET, POST] }', { m: 'DELETE' }, true],
    ['{ field: m, operator: not_in, value: [GET, POST] }', { m: 'GET' }, false],
    ['{ field: m, operator: not_in, value: [GET, POST] }', {}, true],
  ],
  'in_domain / not_in_domain (host is the domain or a subdomain)': [
    [
      '{ field: url, operator: in_domain, value: example.com }',
      { url: 'https://api.example.com/x' },
      true,
    ],
    [
      '{ field: url, operator: in_domain, value: example.com }',
      { url: 'https://badexample.com' },
      false,
    ],
    [
      '{ field: url, operator: in_domain, value: [a.com, b.org] }',
      { url: 'http://x.b.org:8080' },
      true,
    ],
    ['{ field: url, operator: in_domain, value: Example.COM }', { url: 'EXAMPLE.com' }, true],
    [
      '{ field: url, operator: in_domain, value: good.com }',
      { url: 'https://good.com@evil.com/' },
      false,
    ],
    [
      '{ field: url, operator: not_in_domain, value: example.com }',
      { url: 'https://evil.com' },
      true,
    ],
    [
      '{ field: url, operator: not_in_domain, value: evil.com }',
      { url: 'https://x@evil.com?y' },
      false,
    ],
    ['{ field: url, operator: not_in_domain, value: example.com }', {}, false],
    ['{ field: url, operator: in_domain, value: example.com }', { url: 42 }, false],
  ],
  'path_under / path_not_under (normalised paths)': [
    ['{ field: p, operator: path_under, value: /srv/data }', { p: '/srv/data/a.txt' }, true],
    ['{ field: p, operator: path_under, value: /srv/data }', { p: '/srv/data' }, true],
    ['{ field: p, operator: path_under, value: /srv/data }', { p: '/srv/database/a' }, false],
    [
      '{ field: p, operator: path_under, value: /srv/data }',
      { p: '/srv/data/../etc/passwd' },
      false,
    ],
    ['{ field: p, operator: path_under, value: /srv/data/ }', { p: '/srv//data/./x/' }, true],
    ['{ field: p, operator: path_under, value: [/a, /b] }', { p: '/b/c' }, true],
    ['{ field: p, operator: path_under, value: /srv/data }', { p: 'data/x' }, false],
    ['{ field: p, operator: path_under, value: /Srv, ignore_case: true }', { p: '/srv/x' }, true],
    [
      '{ field: p, operator: path_not_under, value: /srv/data }',
      { p: '/srv/data/../../etc' },
      true,
    ],
    ['{ field: p, operator: path_not_under, value: /srv/data }', { p: '/srv/data/x' }, false],
    ['{ field: p, operator: path_not_under, value: /srv/data }', { p: 'relative' }, true],
    ['{ field: p, operator: path_not_under, value: /srv/data }', {}, false],
  ],
  'glob (path globs over the raw value)': [
    ['{ field: p, operator: glob, value: "/srv/**/*.txt" }', { p: '/srv/a/b/c.txt' }, true],
    ['{ field: p, operator: glob, value: "/srv/**/*.txt" }', { p: '/srv/a/b/c.md' }, false],
    ['{ field: p, operator: glob, value: ["**/.env", "**/*.pem"] }', { p: 'x/.env' }, true],
    ['{ field: p, operator: glob, value: "/SRV/*", ignore_case: true }', { p: '/srv/x' }, true],
    ['{ field: p, operator: glob, value: "*" }', { p: 5 }, false],
  ],
  'any / all / not': [
    ['{ any: [{ field: a, operator: exists }, { field: b, operator: exists }] }', { b: 1 }, true],
    ['{ any: [{ field: a, operator: exists }, { field: b, operator: exists }] }', {}, false],
    ['{ all: [{ field: a, operator: exists }, { field: b, operator: exists }] }', { a: 1 }, false],
    [
      '{ all: [{ field: a, operator: exists }, { field: b, operator: exists }] }',
      { a: 1, b: 2 },
      true,
    ],
    ['{ not: { field: a, operator: eq, value: 1 } }', { a: 2 }, true],
    [
      '{ not: { any: [{ field: a, operator: eq, value: 1 }, { field: a, operator: eq, value: 2 }] } }',
      { a: 2 },
      false,
    ],
  ],
  'dotted fields': [
    ['{ field: user.role, operator: eq, value: admin }', { user: { role: 'admin' } }, true],
    ['{ field: user.role, operator: eq, value: admin }', { user: { role: 'viewer' } }, false],
    ['{ field: user.role, operator: eq, value: admin }', { 'user.role': 'admin' }, true],
    ['{ field: user.role, operator: eq, value: admin }', { 'user.role': 'admin', user: {} }, true],
    // Both spellings: equal values decide as one; different ones are denied as ambiguous
    // (engine.ambiguous.test.ts).
    [
      '{ field: user.role, operator: eq, value: admin }',
      { 'user.role': 'admin', user: { role: 'admin' } },
      true,
    ],
    ['{ field: a.b.c, operator: eq, value: 1 }', { a: { b: { c: 1 } } }, true],
    ['{ field: a.0, operator: exists }', { a: ['x'] }, false],
    ['{ field: user.constructor, operator: exists }', { user: {} }, false],
  ],
};

describe('conditions', () => {
  for (const [group, groupCases] of Object.entries(cases)) {
    describe(group, () => {
      it.each(groupCases)('%s with %j is %s', (condition, parameters, expected) => {
        expect(holds(condition, parameters)).toBe(expected);
      });
    });
  }

  it('requires every condition of a rule to hold', () => {
    const both = '{ field: a, operator: exists }, { field: b, operator: exists }';
    expect(holds(both, { a: 1 })).toBe(false);
    expect(holds(both, { a: 1, b: 1 })).toBe(true);
  });
});
