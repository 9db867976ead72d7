/**
 * Name patterns for `action_types`, `resources`, `agent_ids` and `servers`, with the Rust Kvlar's
 * semantics: a pattern without `*`, `?` or `[` is a case-sensitive equality; otherwise it is an
 * anchored glob over the whole string where `*` is any run of characters and `?` exactly one
 * (neither matches a newline, as in the Rust regex the original compiled them to), `[abc]` and
 * `[a-z]` are classes and `[!abc]` / `[^abc]` negated ones. Every other character is literal,
 * backslash included.
 */
import { parseWildcard, wildcardMatcher } from './wildcard.js';

export interface NamePattern {
  readonly source: string;
  /** True when the pattern is a plain name, compared with `===`. */
  readonly exact: boolean;
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
    return { ok: true, pattern: { source, exact: true, test: (value) => value === source } };
  }
  const parsed = parseWildcard(source, { escapes: false, excluded: NEWLINE });
  if (!parsed.ok) return { ok: false, message: `invalid glob "${source}": ${parsed.message}` };
  return {
    ok: true,
    pattern: { source, exact: false, test: wildcardMatcher(parsed.tokens, NEWLINE) },
  };
}
