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
  test(value: string): boolean;
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
    return { ok: true, pattern: { source, exact: true, key, test: (value) => value === source } };
  }
  const parsed = parseWildcard(source, { escapes: false, excluded: NEWLINE });
  if (!parsed.ok) return { ok: false, message: `invalid glob "${source}": ${parsed.message}` };
  return {
    ok: true,
    pattern: {
      source,
      exact: false,
      key: indexKey(parsed.tokens),
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
