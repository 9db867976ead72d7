/**
 * zod's issues turned into Kvlar issues: one line each, naming the path, the position in the
 * YAML, what was expected and what was found, with a did-you-mean where a word was misspelt.
 */
import type { z } from 'zod';
import type { Issue } from './issues.js';
import { getOwn, isPlainObject } from './json.js';
import { didYouMean } from './suggest.js';
import { withFile, type YamlSource } from './yaml-source.js';

type Path = readonly (string | number)[];

export interface IssueContext {
  readonly source: YamlSource;
  readonly file: string | undefined;
  /** The keys an object at `path` may have, for did-you-mean on unknown keys. */
  keysAt(path: Path): readonly string[];
  /**
   * For a union that failed as a whole, which alternative the value meant, judged by its keys:
   * its issues are the ones worth reporting. `undefined` reports the union's own message.
   */
  branchOf?(path: Path, value: unknown): number | undefined;
  /** Why a known key cannot stand where it was written, as a clause starting with `: `. */
  whyNotHere?(key: string): string | undefined;
}

export function convertZodIssues(
  issues: readonly z.core.$ZodIssue[],
  context: IssueContext,
): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) collect(issue, [], context, out);
  out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  // A value can fail several alternatives for one cause; report each place and message once.
  const seen = new Set<string>();
  return out.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function collect(issue: z.core.$ZodIssue, base: Path, context: IssueContext, out: Issue[]): void {
  const path: Path = [...base, ...(issue.path as (string | number)[])];
  const value = valueAt(context.source.value, path);
  const push = (code: string, message: string, at: Path = path, key = false) => {
    const position = context.source.locate(at, { key });
    out.push({
      code,
      severity: 'error',
      message,
      path: at,
      ...withFile(context.file),
      ...position,
    });
  };

  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = context.keysAt(path);
      for (const key of issue.keys) {
        const message = known.includes(key)
          ? `key "${key}" is not allowed here${context.whyNotHere?.(key) ?? ''}`
          : `unknown key "${key}"${didYouMean(key, known)}`;
        push('unknown_key', message, [...path, key], true);
      }
      return;
    }
    case 'invalid_type': {
      if (value === undefined) {
        const parent = path.slice(0, -1);
        push('missing_key', `missing required key "${String(path.at(-1))}"`, parent);
      } else {
        push('wrong_type', `expected ${article(issue.expected)}, found ${describe(value)}`);
      }
      return;
    }
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      const found = typeof value === 'string' ? didYouMean(value, allowed) : '';
      push(
        'invalid_value',
        `expected one of ${allowed.join(', ')}; found ${describe(value)}${found}`,
      );
      return;
    }
    case 'too_small':
    case 'too_big':
      push(issue.code, issue.message);
      return;
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        const key = issue.discriminator;
        const at = path.at(-1) === key ? path : [...path, key];
        const owner = path.at(-1) === key ? path.slice(0, -1) : path;
        const found = valueAt(context.source.value, at);
        const allowed = (issue as { options?: unknown[] }).options?.map(String) ?? [];
        if (found === undefined) {
          // Most often the key is there, misspelt: name it.
          const object = valueAt(context.source.value, owner);
          const known = context.keysAt(owner);
          for (const written of isPlainObject(object) ? Object.keys(object) : []) {
            if (!known.includes(written)) {
              push(
                'unknown_key',
                `unknown key "${written}"${didYouMean(written, known)}`,
                [...owner, written],
                true,
              );
            }
          }
          push(
            'missing_key',
            `missing required key "${key}" (one of ${allowed.join(', ')})`,
            owner,
          );
        } else {
          const hint = typeof found === 'string' ? didYouMean(found, allowed) : '';
          push(
            'invalid_value',
            `unknown ${key} ${describe(found)}${hint}; expected one of ${allowed.join(', ')}`,
            at,
          );
        }
        return;
      }
      if (value === undefined) {
        push('missing_key', `missing required key "${String(path.at(-1))}"`, path.slice(0, -1));
        return;
      }
      const branch = context.branchOf?.(path, value);
      const chosen = branch === undefined ? undefined : issue.errors[branch];
      if (chosen !== undefined) {
        for (const inner of chosen) collect(inner, path, context, out);
      } else {
        push(
          'invalid_value',
          `expected ${unionExpectation(issue.errors)}, found ${describe(value)}`,
        );
      }
      return;
    }
    default:
      push(issue.code, issue.message);
  }
}

function unionExpectation(errors: readonly (readonly z.core.$ZodIssue[])[]): string {
  const expected = new Set<string>();
  for (const branch of errors) {
    for (const inner of branch) {
      if (inner.code === 'invalid_type' && inner.path.length === 0)
        expected.add(article(inner.expected));
    }
  }
  return expected.size > 0 ? [...expected].join(' or ') : 'a valid value';
}

export function valueAt(root: unknown, path: Path): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isPlainObject(current)) current = getOwn(current, String(segment));
    else return undefined;
  }
  return current;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'a boolean (true or false)',
    record: 'a mapping',
  };
  return names[expected] ?? expected;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `${typeof value} ${String(value)}`;
}
