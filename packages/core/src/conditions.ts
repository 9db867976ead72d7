/**
 * Conditions compiled to closures over the tool's arguments. Semantics follow the Rust Kvlar
 * (v0.3 and v0.4 operators side by side), with Kvlar's extensions: `gte`/`lte`, `path_under`,
 * `glob`, `shell`, `ignore_case` and the `any`/`all`/`not` combinators. A missing field makes
 * every operator false except `exists`, `not_exists` and `not_in`.
 */
import { extractHost, hostInDomain, policyDomain } from './domain.js';
import { compilePathGlob, type PathGlob } from './glob.js';
import { compactJson, getOwn, isPlainObject, type JsonObject, jsonEquals } from './json.js';
import { addressOf, compileNetworks, type IpNetwork, policyNetwork } from './network.js';
import { isAbsolutePath, isUnder, normalizePath } from './paths.js';
import { compileRegex, type RegexResult } from './regex.js';
import type { ComparisonDocument, ConditionDocument } from './schema.js';
import { compileShellMatch, type ShellMatchDocument } from './shell-match.js';

export interface CompiledCondition {
  holds(parameters: JsonObject): boolean;
  /** A short account of the check against these arguments, for `explain`. */
  describe(parameters: JsonObject): string;
  /** The fields it reads, each once (for any/all/not, those of the conditions inside). */
  readonly fields: readonly string[];
}

export interface ConditionProblem {
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly message: string;
}

type Compiled =
  | { ok: true; condition: CompiledCondition }
  | { ok: false; problems: ConditionProblem[] };

/**
 * The argument `field` names: the key itself when it exists (dots and all), else a walk of
 * nested objects splitting at each dot, as the Rust engine did. `undefined` means absent.
 * The dotted path is split once, here. When both exist and differ, the engine denies before
 * any condition reads the field (see `ambiguityTest`), so which one wins here does not matter.
 */
export function fieldResolver(field: string): (parameters: JsonObject) => unknown {
  const parts = field.split('.');
  if (parts.length < 2) return (parameters) => getOwn(parameters, field);
  return (parameters) => {
    const direct = getOwn(parameters, field);
    return direct !== undefined ? direct : nestedValue(parameters, parts);
  };
}

/**
 * Whether the arguments give a dotted `field` two different values: a key of that very name and,
 * not JSON-equal to it, a value at the end of the nested walk. The engine cannot know which one
 * the server reads, so it denies such an action. `undefined` for a field without dots, which has
 * one spelling only.
 */
export function ambiguityTest(field: string): ((parameters: JsonObject) => boolean) | undefined {
  const parts = field.split('.');
  if (parts.length < 2) return undefined;
  return (parameters) => {
    const direct = getOwn(parameters, field);
    if (direct === undefined) return false;
    const nested = nestedValue(parameters, parts);
    return nested !== undefined && !jsonEquals(direct, nested);
  };
}

/** The value at the end of a walk of nested objects, one own key per part; else `undefined`. */
function nestedValue(parameters: JsonObject, parts: readonly string[]): unknown {
  let current: unknown = parameters;
  for (const part of parts) {
    if (!isPlainObject(current)) return undefined;
    current = getOwn(current, part);
    if (current === undefined) return undefined;
  }
  return current;
}

/** Compiles a regex, sharing one compiled copy per (source, case) within a policy. */
export type RegexCompiler = (source: string, ignoreCase: boolean) => RegexResult;

export function regexCompiler(): RegexCompiler {
  const compiled = new Map<string, RegexResult>();
  return (source, ignoreCase) => {
    const key = `${ignoreCase ? 'i' : '-'}${source}`;
    let result = compiled.get(key);
    if (result === undefined) {
      result = compileRegex(source, { ignoreCase });
      compiled.set(key, result);
    }
    return result;
  };
}

/** Deeper nesting of any/all/not is refused: no policy needs it, and evaluation recurses. */
export const MAX_CONDITION_DEPTH = 32;

export function compileCondition(
  document: ConditionDocument,
  path: readonly (string | number)[],
  regexes: RegexCompiler = regexCompiler(),
  depth = 1,
): Compiled {
  if (depth > MAX_CONDITION_DEPTH) {
    const message = `conditions nest deeper than ${MAX_CONDITION_DEPTH} levels of any/all/not`;
    return { ok: false, problems: [{ path, code: 'too_deep', message }] };
  }
  if ('any' in document || 'all' in document) {
    const key = 'any' in document ? 'any' : 'all';
    const list =
      'any' in document ? document.any : (document as { all: readonly ConditionDocument[] }).all;
    const children: CompiledCondition[] = [];
    const problems: ConditionProblem[] = [];
    list.forEach((child, index) => {
      const compiled = compileCondition(child, [...path, key, index], regexes, depth + 1);
      if (compiled.ok) children.push(compiled.condition);
      else problems.push(...compiled.problems);
    });
    if (problems.length > 0) return { ok: false, problems };
    const holds =
      key === 'any'
        ? (p: JsonObject) => children.some((child) => child.holds(p))
        : (p: JsonObject) => children.every((child) => child.holds(p));
    return {
      ok: true,
      condition: {
        holds,
        describe: (p) => `${key}(${children.map((child) => child.describe(p)).join(', ')})`,
        fields: [...new Set(children.flatMap((child) => child.fields))],
      },
    };
  }
  if ('not' in document) {
    const inner = compileCondition(document.not, [...path, 'not'], regexes, depth + 1);
    if (!inner.ok) return inner;
    return {
      ok: true,
      condition: {
        holds: (p) => !inner.condition.holds(p),
        describe: (p) => `not(${inner.condition.describe(p)})`,
        fields: inner.condition.fields,
      },
    };
  }
  return compileComparison(document, path, regexes);
}

function compileComparison(
  document: ComparisonDocument,
  path: readonly (string | number)[],
  regexes: RegexCompiler,
): Compiled {
  const { field, operator } = document;
  const ignoreCase = document.ignore_case === true;
  const fold = (text: string) => (ignoreCase ? text.toLowerCase() : text);
  const value = document.value;
  const problem = (
    code: string,
    message: string,
    at: (string | number)[] = ['value'],
  ): Compiled => ({
    ok: false,
    problems: [{ path: [...path, ...at], code, message }],
  });
  const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : [v as string]);
  // Present-field test; `missing` is the answer when the field is absent.
  let test: (actual: unknown) => boolean;
  let missing = false;
  // What the operator found in the value, for `explain` (the `shell` operator's command).
  let detail: ((actual: unknown) => string) | undefined;

  switch (operator) {
    case 'equals':
    case 'eq':
    case 'not_equals':
    case 'neq': {
      const equal = ignoreCase
        ? caseInsensitiveEquals(value)
        : (actual: unknown) => jsonEquals(actual, value);
      test = operator === 'equals' || operator === 'eq' ? equal : (actual) => !equal(actual);
      break;
    }
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      const needle = fold(value as string);
      const method =
        operator === 'contains'
          ? 'includes'
          : operator === 'starts_with'
            ? 'startsWith'
            : 'endsWith';
      // A non-string field reads as "", as in the Rust engine.
      test = (actual) => fold(typeof actual === 'string' ? actual : '')[method](needle);
      break;
    }
    case 'matches': {
      const compiled = regexes(value as string, ignoreCase);
      if (!compiled.ok) return problem('invalid_regex', compiled.message);
      test = (actual) => compiled.regex.test(typeof actual === 'string' ? actual : '');
      break;
    }
    case 'greater_than':
    case 'gt':
      test = (actual) => typeof actual === 'number' && actual > (value as number);
      break;
    case 'less_than':
    case 'lt':
      test = (actual) => typeof actual === 'number' && actual < (value as number);
      break;
    case 'gte':
      test = (actual) => typeof actual === 'number' && actual >= (value as number);
      break;
    case 'lte':
      test = (actual) => typeof actual === 'number' && actual <= (value as number);
      break;
    case 'exists':
      test = () => true;
      break;
    case 'not_exists':
      test = () => false;
      missing = true;
      break;
    case 'one_of':
    case 'in':
    case 'not_in': {
      const members = value as unknown[];
      // Text, numbers, booleans and null compare by value: a Set answers for them at once.
      const scalars = new Set(
        members.filter((member) => typeof member !== 'object' || member === null),
      );
      const objects = members.filter((member) => typeof member === 'object' && member !== null);
      const inList = ignoreCase
        ? (actual: unknown) => members.some((member) => caseInsensitiveEquals(member)(actual))
        : (actual: unknown) =>
            typeof actual !== 'object' || actual === null
              ? scalars.has(actual)
              : objects.some((member) => jsonEquals(actual, member));
      test = operator === 'not_in' ? (actual) => !inList(actual) : inList;
      missing = operator === 'not_in';
      break;
    }
    case 'in_domain':
    case 'not_in_domain': {
      const domains: string[] = [];
      for (const [index, domain] of list(value).entries()) {
        const checked = policyDomain(domain);
        if ('problem' in checked) {
          return problem(
            'invalid_domain',
            checked.problem,
            Array.isArray(value) ? ['value', index] : ['value'],
          );
        }
        domains.push(checked.domain);
      }
      const inDomain = (actual: unknown) => {
        const host = typeof actual === 'string' ? extractHost(actual) : undefined;
        return host !== undefined && domains.some((domain) => hostInDomain(host, domain));
      };
      test = operator === 'in_domain' ? inDomain : (actual) => !inDomain(actual);
      break;
    }
    case 'in_network':
    case 'not_in_network': {
      const networks: IpNetwork[] = [];
      for (const [index, text] of list(value).entries()) {
        const checked = policyNetwork(text);
        if ('problem' in checked) {
          return problem(
            'invalid_network',
            checked.problem,
            Array.isArray(value) ? ['value', index] : ['value'],
          );
        }
        networks.push(checked.network);
      }
      const set = compileNetworks(networks);
      // A host name is in no network: names are not resolved.
      const inNetwork = (actual: unknown) => {
        const address = typeof actual === 'string' ? addressOf(actual) : undefined;
        return address !== undefined && set.contains(address);
      };
      test = operator === 'in_network' ? inNetwork : (actual) => !inNetwork(actual);
      break;
    }
    case 'path_under':
    case 'path_not_under': {
      const bases: string[] = [];
      for (const [index, base] of list(value).entries()) {
        if (!isAbsolutePath(base)) {
          return problem(
            'relative_path',
            `"${base}" is not an absolute path`,
            Array.isArray(value) ? ['value', index] : ['value'],
          );
        }
        bases.push(fold(normalizePath(base)));
      }
      const under = (actual: unknown) => {
        if (typeof actual !== 'string') return false;
        const normalized = fold(normalizePath(actual));
        return isAbsolutePath(normalized) && bases.some((base) => isUnder(normalized, base));
      };
      test = operator === 'path_under' ? under : (actual) => !under(actual);
      break;
    }
    case 'glob': {
      const globs: PathGlob[] = [];
      for (const [index, source] of list(value).entries()) {
        const compiled = compilePathGlob(source, { ignoreCase });
        if (!compiled.ok) {
          return problem(
            'invalid_glob',
            compiled.message,
            Array.isArray(value) ? ['value', index] : ['value'],
          );
        }
        globs.push(compiled.glob);
      }
      test = (actual) => typeof actual === 'string' && globs.some((glob) => glob.test(actual));
      break;
    }
    case 'shell': {
      // A present value that is not text, or text that is not a readable command line, could
      // run anything: the operator holds (see shell-match.ts).
      const compiled = compileShellMatch(value as ShellMatchDocument, { ignoreCase, regexes });
      if (!compiled.ok) {
        return {
          ok: false,
          problems: compiled.problems.map((found) => ({
            path: [...path, 'value', ...found.path],
            code: found.code,
            message: found.message,
          })),
        };
      }
      test = compiled.matcher.test;
      detail = compiled.matcher.explain;
      break;
    }
  }

  const resolve = fieldResolver(field);
  const holds = (parameters: JsonObject) => {
    const actual = resolve(parameters);
    return actual === undefined ? missing : test(actual);
  };
  const shown = value === undefined ? '' : ` ${compactJson(value)}`;
  return {
    ok: true,
    condition: {
      holds,
      describe: (parameters) => {
        const actual = resolve(parameters);
        const found = actual === undefined ? 'absent' : compactJson(actual);
        const how = actual === undefined || detail === undefined ? '' : `; ${detail(actual)}`;
        return `${field} ${operator}${shown}${ignoreCase ? ' (ignoring case)' : ''}: ${holds(parameters)} (${field} is ${found}${how})`;
      },
      fields: [field],
    },
  };
}

function caseInsensitiveEquals(expected: unknown): (actual: unknown) => boolean {
  if (typeof expected !== 'string') return (actual) => jsonEquals(actual, expected);
  const lowered = expected.toLowerCase();
  return (actual) => typeof actual === 'string' && actual.toLowerCase() === lowered;
}
