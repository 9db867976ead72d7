/**
 * The `glob` condition operator: micromatch's path-glob language (`*`, `**`, `?`, `[...]`,
 * `{a,b}`, `{1..3}`) with its `dot: true` semantics, matched without RegExp. micromatch compiles
 * globs to backtracking regexes that take seconds on a few kilobytes of hostile text (`a*a*a*b`
 * against "aaaa…"), so micromatch only expands braces here; matching is segment by segment with
 * the linear wildcard NFA.
 *
 * As in micromatch, `*` and `**` never match a `.` or `..` segment (literal ones do):
 * `/srv/**` does not match `/srv/../etc`. `glob` reads the raw text; use `path_under` for containment.
 */
import micromatch from 'micromatch';
import { hasWildcard, parseWildcard, wildcardMatcher } from './wildcard.js';

export interface PathGlob {
  readonly source: string;
  test(value: string): boolean;
  /**
   * Whether the glob matches `value` or some path under it: what a command that may write
   * anywhere in the directory `value` (a bind mount) could write: `/etc/**`, `/etc/passwd` and
   * `/home/[a-z]*` all have paths under `/`; `/home/me/app` has none of `/home/[a-z]*`.
   */
  testUnder(value: string): boolean;
}

export type PathGlobResult =
  | { readonly ok: true; readonly glob: PathGlob }
  | { readonly ok: false; readonly message: string };

const MAX_ALTERNATIVES = 256;
const EXTGLOB = /(^|[^\\])[@!+*?]\(/;

type Segment =
  | { readonly kind: 'globstar' }
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'wildcard'; readonly test: (segment: string) => boolean };

export function compilePathGlob(
  source: string,
  options?: { ignoreCase?: boolean },
): PathGlobResult {
  const fail = (message: string): PathGlobResult => ({
    ok: false,
    message: `invalid glob "${source}": ${message}`,
  });
  if (source === '') return fail('empty pattern');
  if (EXTGLOB.test(source)) return fail('extglobs such as @(…) and !(…) are not supported');
  const pattern = options?.ignoreCase ? source.toLowerCase() : source;
  let alternatives: string[];
  try {
    alternatives = micromatch.braces(pattern, { expand: true, rangeLimit: MAX_ALTERNATIVES });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (alternatives.length > MAX_ALTERNATIVES) {
    return fail(`braces expand to more than ${MAX_ALTERNATIVES} alternatives`);
  }
  const compiled: Segment[][] = [];
  for (const alternative of alternatives) {
    const segments: Segment[] = [];
    for (const part of trimTrailingSlash(alternative).split('/')) {
      if (part === '**') {
        if (segments.at(-1)?.kind !== 'globstar') segments.push({ kind: 'globstar' });
        continue;
      }
      const parsed = parseWildcard(part, { escapes: true, excluded: 0x2f });
      if (!parsed.ok) return fail(parsed.message);
      if (hasWildcard(parsed.tokens)) {
        const matches = wildcardMatcher(parsed.tokens, -1);
        // As in micromatch, a segment with a star never stands for `.` or `..` (`?` and classes
        // may), and no wildcard segment matches an empty one.
        const star = parsed.tokens.some((token) => token.kind === 'star');
        segments.push({
          kind: 'wildcard',
          test: (segment) => segment !== '' && !(star && isDotSegment(segment)) && matches(segment),
        });
      } else {
        const text = String.fromCodePoint(
          ...parsed.tokens.map((token) => (token as { codePoint: number }).codePoint),
        );
        segments.push({ kind: 'literal', text });
      }
    }
    compiled.push(segments);
  }
  const ignoreCase = options?.ignoreCase === true;
  return {
    ok: true,
    glob: {
      source,
      test(value) {
        const segments = trimTrailingSlash(ignoreCase ? value.toLowerCase() : value).split('/');
        return compiled.some((pattern) => matchSegments(pattern, segments));
      },
      testUnder(value) {
        const folded = ignoreCase ? value.toLowerCase() : value;
        // `/` is the root, one empty segment, so that `/etc/**` can go on from it.
        const segments = (/^\/+$/.test(folded) ? '' : trimTrailingSlash(folded)).split('/');
        return compiled.some((pattern) => matchSegments(pattern, segments, true));
      },
    },
  };
}

function trimTrailingSlash(text: string): string {
  return text.length > 1 && text.endsWith('/') ? text.slice(0, -1) : text;
}

function isDotSegment(segment: string): boolean {
  return segment === '.' || segment === '..';
}

/**
 * NFA over segments: `**` may stay on any number of non-dot segments, or on none. Whether the
 * glob matches the segments, or with `prefix`, the segments or some longer path that starts
 * with them (every pattern segment can match some segment, so a live state can go on to accept).
 */
function matchSegments(
  pattern: readonly Segment[],
  segments: readonly string[],
  prefix = false,
): boolean {
  const accept = pattern.length;
  let current = new Uint8Array(accept + 1);
  let next = new Uint8Array(accept + 1);
  current[0] = 1;
  closeOverGlobstars(pattern, current);
  for (const segment of segments) {
    next.fill(0);
    let alive = false;
    for (let state = 0; state < accept; state++) {
      if (current[state] === 0) continue;
      const part = pattern[state]!;
      let target = -1;
      if (part.kind === 'globstar') {
        if (!isDotSegment(segment)) target = state;
      } else if (part.kind === 'literal') {
        if (segment === part.text) target = state + 1;
      } else if (part.test(segment)) {
        target = state + 1;
      }
      if (target >= 0) {
        next[target] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    closeOverGlobstars(pattern, next);
    [current, next] = [next, current];
  }
  return prefix || current[accept] === 1;
}

function closeOverGlobstars(pattern: readonly Segment[], states: Uint8Array): void {
  for (let state = 0; state < pattern.length; state++) {
    if (states[state] === 1 && pattern[state]!.kind === 'globstar') states[state + 1] = 1;
  }
}
