/**
 * Name patterns for `action_types`, `resources`, `agent_ids` and `servers`, with the Rust Kvlar's
 * semantics: a pattern without `*`, `?` or `[` is a case-sensitive equality; otherwise it is an
 * anchored glob over the whole string where `*` is any run of characters and `?` exactly one
 * (neither matches a newline, as in the Rust regex the original compiled them to), `[abc]` and
 * `[a-z]` are classes and `[!abc]` / `[^abc]` negated ones. Every other character is literal,
 * backslash included.
 */
import { parseWildcard, type WildcardToken, wildcardMatcher } from './wildcard.js';

export interface NamePattern {
  readonly source: string;
  /** True when the pattern is a plain name, compared with `===`. */
  readonly exact: boolean;
  /**
   * What every name it matches has, for the engine's index: the name itself (exact patterns),
   * else its first code unit (a literal start, `read_*`), else its last (`*_file`), else nothing.
   */
  readonly key:
    | { readonly kind: 'exact'; readonly name: string }
    | { readonly kind: 'first' | 'last'; readonly unit: string }
    | { readonly kind: 'none' };
  /**
   * For `prefix*suffix` patterns (the common shape), the literal parts: the engine tests these
   * inline instead of calling `test`. Undefined for other patterns.
   */
  readonly affix: Affix | undefined;
  test(value: string): boolean;
}

export interface Affix {
  readonly prefix: string;
  readonly suffix: string;
}

export type NamePatternResult =
  | { readonly ok: true; readonly pattern: NamePattern }
  | { readonly ok: false; readonly message: string };

const NEWLINE = 0x0a;

export function isGlobPattern(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?') || pattern.includes('[');
}

export function compileNamePattern(source: string): NamePatternResult {
  if (!isGlobPattern(source)) {
    const key = { kind: 'exact', name: source } as const;
    const test = (value: string) => value === source;
    return { ok: true, pattern: { source, exact: true, key, affix: undefined, test } };
  }
  const parsed = parseWildcard(source, { escapes: false, excluded: NEWLINE });
  if (!parsed.ok) return { ok: false, message: `invalid glob "${source}": ${parsed.message}` };
  return {
    ok: true,
    pattern: {
      source,
      exact: false,
      key: indexKey(parsed.tokens),
      affix: affixOf(parsed.tokens),
      test: wildcardMatcher(parsed.tokens, NEWLINE),
    },
  };
}

function indexKey(tokens: readonly WildcardToken[]): NamePattern['key'] {
  const first = tokens[0];
  if (first?.kind === 'literal')
    return { kind: 'first', unit: String.fromCodePoint(first.codePoint)[0]! };
  const last = tokens.at(-1);
  if (last?.kind === 'literal')
    return { kind: 'last', unit: String.fromCodePoint(last.codePoint).at(-1)! };
  return { kind: 'none' };
}

function affixOf(tokens: readonly WildcardToken[]): Affix | undefined {
  const star = tokens.findIndex((token) => token.kind === 'star');
  const literal = (token: WildcardToken) => token.kind === 'literal';
  if (star === -1 || !tokens.every((token, index) => index === star || literal(token)))
    return undefined;
  const text = (part: readonly WildcardToken[]) =>
    String.fromCodePoint(...part.map((token) => (token as { codePoint: number }).codePoint));
  return { prefix: text(tokens.slice(0, star)), suffix: text(tokens.slice(star + 1)) };
}

/** `pattern.test(value)`, with exact names and `prefix*suffix` shapes decided inline. */
export function nameMatches(pattern: NamePattern, value: string): boolean {
  if (pattern.exact) return value === pattern.source;
  const affix = pattern.affix;
  if (affix === undefined) return pattern.test(value);
  const { prefix, suffix } = affix;
  if (value.length < prefix.length + suffix.length) return false;
  if (!value.startsWith(prefix) || !value.endsWith(suffix)) return false;
  // The star stands for what lies between, which must not hold a newline.
  const newline = value.indexOf('\n', prefix.length);
  return newline === -1 || newline >= value.length - suffix.length;
}
