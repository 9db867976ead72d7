/**
 * Wildcard patterns (`*`, `?`, `[...]`) compiled once into tokens and matched by an NFA
 * simulation over code points: time is linear in the input for every pattern, so a hostile
 * argument or tool name cannot trigger the polynomial backtracking a RegExp translation has.
 */

export interface WildcardOptions {
  /** `\x` escapes the next character (path globs) or is literal (Rust name patterns). */
  readonly escapes: boolean;
  /** A code point that `*` and `?` never match (the Rust name patterns' newline), or -1. */
  readonly excluded: number;
}

export type WildcardToken =
  | { readonly kind: 'literal'; readonly codePoint: number }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly number[] };

export type WildcardResult =
  | { readonly ok: true; readonly tokens: readonly WildcardToken[] }
  | { readonly ok: false; readonly message: string };

export function parseWildcard(source: string, options: WildcardOptions): WildcardResult {
  const tokens: WildcardToken[] = [];
  const chars = Array.from(source);
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '*') {
      // `**` inside a pattern means the same as `*`; one star keeps the NFA small.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (char === '?') {
      tokens.push({ kind: 'any' });
    } else if (char === '[') {
      const parsed = parseClass(chars, i + 1, options);
      if (!parsed.ok) return parsed;
      tokens.push(parsed.token);
      i = parsed.end;
    } else if (char === '\\' && options.escapes) {
      const next = chars[i + 1];
      if (next === undefined) return { ok: false, message: 'dangling "\\" at the end' };
      tokens.push({ kind: 'literal', codePoint: next.codePointAt(0)! });
      i++;
    } else {
      tokens.push({ kind: 'literal', codePoint: char.codePointAt(0)! });
    }
  }
  return { ok: true, tokens };
}

function parseClass(
  chars: readonly string[],
  start: number,
  options: WildcardOptions,
): { ok: true; token: WildcardToken; end: number } | { ok: false; message: string } {
  let i = start;
  let negated = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negated = true;
    i++;
  }
  const members: number[] = [];
  const first = i;
  while (i < chars.length && chars[i] !== ']') {
    let char = chars[i]!;
    if (char === '\\' && options.escapes && i + 1 < chars.length) {
      i++;
      char = chars[i]!;
    } else if (char === '\\' || char === '[') {
      return { ok: false, message: `unsupported "${char}" inside a [...] class` };
    }
    members.push(char.codePointAt(0)!);
    i++;
  }
  if (i >= chars.length) return { ok: false, message: 'unclosed "[" class' };
  if (i === first) return { ok: false, message: 'empty "[]" class' };
  const ranges: number[] = [];
  for (let m = 0; m < members.length; m++) {
    const low = members[m]!;
    const high = members[m + 2];
    if (members[m + 1] === 0x2d && high !== undefined) {
      if (high < low) {
        const range = `${String.fromCodePoint(low)}-${String.fromCodePoint(high)}`;
        return { ok: false, message: `reversed range "${range}" in a [...] class` };
      }
      ranges.push(low, high);
      m += 2;
    } else {
      ranges.push(low, low);
    }
  }
  return { ok: true, token: { kind: 'class', negated, ranges }, end: i };
}

export function hasWildcard(tokens: readonly WildcardToken[]): boolean {
  return tokens.some((token) => token.kind !== 'literal');
}

/** A matcher for the whole string; fast paths for `prefix*suffix`, an NFA for the rest. */
export function wildcardMatcher(
  tokens: readonly WildcardToken[],
  excluded: number,
): (value: string) => boolean {
  return literalShape(tokens, excluded) ?? nfa(tokens, excluded);
}

function literalShape(
  tokens: readonly WildcardToken[],
  excluded: number,
): ((value: string) => boolean) | undefined {
  const stars = tokens.filter((token) => token.kind === 'star').length;
  if (stars > 1 || tokens.some((token) => token.kind === 'any' || token.kind === 'class')) {
    return undefined;
  }
  const text = (part: readonly WildcardToken[]) =>
    String.fromCodePoint(...part.map((token) => (token as { codePoint: number }).codePoint));
  if (stars === 0) {
    const exact = text(tokens);
    return (value) => value === exact;
  }
  const at = tokens.findIndex((token) => token.kind === 'star');
  const prefix = text(tokens.slice(0, at));
  const suffix = text(tokens.slice(at + 1));
  const minLength = prefix.length + suffix.length;
  const excludedChar = excluded >= 0 ? String.fromCodePoint(excluded) : '';
  return (value) => {
    if (value.length < minLength || !value.startsWith(prefix) || !value.endsWith(suffix)) {
      return false;
    }
    if (excludedChar === '') return true;
    const found = value.indexOf(excludedChar, prefix.length);
    return found === -1 || found >= value.length - suffix.length;
  };
}

function nfa(tokens: readonly WildcardToken[], excluded: number): (value: string) => boolean {
  const run = nfaRun(tokens, excluded);
  // Literal text before the first and after the last wildcard must be there: most names fail
  // these cheap tests, and only the rest pay for the NFA.
  const leading = literalText(tokens);
  // Reversed code points, so a surrogate pair stays whole.
  const trailing = Array.from(literalText([...tokens].reverse()))
    .reverse()
    .join('');
  const fixed = tokens.some((token) => token.kind === 'star') ? undefined : tokens.length;
  return (value) => {
    if (fixed !== undefined && (value.length < fixed || value.length > 2 * fixed)) return false;
    if (!value.startsWith(leading) || !value.endsWith(trailing)) return false;
    return run(value);
  };
}

/** The literal characters at the start of `tokens`, up to the first wildcard. */
function literalText(tokens: readonly WildcardToken[]): string {
  let text = '';
  for (const token of tokens) {
    if (token.kind !== 'literal') break;
    text += String.fromCodePoint(token.codePoint);
  }
  return text;
}

function nfaRun(tokens: readonly WildcardToken[], excluded: number): (value: string) => boolean {
  const accept = tokens.length;
  // Two state sets reused across calls: matching is synchronous and never re-entered.
  const first = new Uint8Array(accept + 1);
  const second = new Uint8Array(accept + 1);
  return (value) => {
    let current = first;
    let next = second;
    current.fill(0);
    current[0] = 1;
    closeOverStars(tokens, current);
    for (const char of value) {
      const codePoint = char.codePointAt(0)!;
      next.fill(0);
      let alive = false;
      for (let state = 0; state < accept; state++) {
        if (current[state] === 0) continue;
        const target = step(tokens[state]!, state, codePoint, excluded);
        if (target >= 0) {
          next[target] = 1;
          alive = true;
        }
      }
      if (!alive) return false;
      closeOverStars(tokens, next);
      [current, next] = [next, current];
    }
    return current[accept] === 1;
  };
}

function step(token: WildcardToken, state: number, codePoint: number, excluded: number): number {
  switch (token.kind) {
    case 'star':
      return codePoint === excluded ? -1 : state;
    case 'any':
      return codePoint === excluded ? -1 : state + 1;
    case 'literal':
      return codePoint === token.codePoint ? state + 1 : -1;
    case 'class': {
      let inside = false;
      for (let r = 0; r < token.ranges.length; r += 2) {
        if (codePoint >= token.ranges[r]! && codePoint <= token.ranges[r + 1]!) {
          inside = true;
          break;
        }
      }
      return inside !== token.negated ? state + 1 : -1;
    }
  }
}

/** A star may match nothing: being before it means also being after it. */
function closeOverStars(tokens: readonly WildcardToken[], states: Uint8Array): void {
  for (let state = 0; state < tokens.length; state++) {
    if (states[state] === 1 && tokens[state]!.kind === 'star') states[state + 1] = 1;
  }
}
