/**
 * A cheap necessary condition for a regex: a run of literal characters every match contains.
 * re2js costs 0.2–1.5 µs per search; `String.prototype.includes` tens of nanoseconds. When the
 * literal is absent the regex cannot match and re2js is skipped.
 *
 * Conservative by construction: anything not understood (alternation at the top level, flag
 * changes mid-pattern, `\Q…\E`, odd braces) yields no literal, never a wrong one. Under `(?i)` only
 * ASCII characters count, and the check runs only on ASCII input, where Unicode case folding
 * (which maps `ſ` to `s` and the Kelvin sign to `k`) reduces to ASCII lower-casing.
 */

export interface RequiredLiteral {
  /** Every match contains at least one of these (lower-cased when `ignoreCase`). */
  readonly anyOf: readonly string[];
  readonly ignoreCase: boolean;
}

const FLAGS = /^\(\?([imsUu]+)\)/;
const MAX_ALTERNATIVES = 16;

/**
 * Reads the pattern's top level as a sequence of atoms. Adjacent literal characters and groups
 * that are a plain choice of literals (`(pem|key|env)`) multiply into sets of strings one of
 * which every match must contain; any other atom ends the set. The most selective set wins.
 */
export function requiredLiteral(source: string, ignoreCase = false): RequiredLiteral | undefined {
  let i = 0;
  let caseless = ignoreCase;
  const flags = FLAGS.exec(source);
  if (flags !== null) {
    caseless ||= flags[1]!.includes('i');
    i = flags[0].length;
  }
  const factors: string[][] = [];
  let current: string[] = [''];
  const endFactor = () => {
    if (current.some((text) => text !== '')) factors.push(current);
    current = [''];
  };
  const append = (choices: readonly string[]) => {
    const next: string[] = [];
    for (const prefix of current) for (const choice of choices) next.push(prefix + choice);
    if (next.length > MAX_ALTERNATIVES) {
      endFactor();
      current = [...choices];
    } else {
      current = next;
    }
  };
  const quantifierAt = (at: number) => {
    const char = source[at];
    return char === '*' || char === '+' || char === '?' || char === '{';
  };

  while (i < source.length) {
    const char = source[i]!;
    if (char === '|' || char === ')' || char === ']' || char === '}') return undefined;
    if (char === '*' || char === '+' || char === '?' || char === '{') {
      // A quantifier here follows something that was not a literal (those are checked ahead).
      let end = i + 1;
      if (char === '{') {
        const repeat = /^\{\d+(,\d*)?\}/.exec(source.slice(i));
        if (repeat === null) return undefined;
        end = i + repeat[0].length;
      }
      if (source[end] === '?') end++;
      endFactor();
      i = end;
      continue;
    }
    if (char === '(') {
      if (source.startsWith('(?', i) && !/^\(\?(P?<|:|[imsUu-]*:)/.test(source.slice(i))) {
        return undefined; // a flag change for the rest of the pattern
      }
      const end = skipGroup(source, i);
      if (end === -1) return undefined;
      const choices = quantifierAt(end)
        ? undefined
        : literalChoices(source.slice(i, end), caseless);
      if (choices === undefined) endFactor();
      else append(choices);
      i = end;
      continue;
    }
    if (char === '[') {
      const end = skipClass(source, i);
      if (end === -1) return undefined;
      endFactor();
      i = end;
      continue;
    }
    if (char === '.' || char === '^' || char === '$') {
      endFactor();
      i++;
      continue;
    }
    const literal = literalAt(source, i);
    if (literal === undefined) return undefined;
    if (literal.text === undefined || quantifierAt(literal.end)) {
      // A class escape (`\s`), or a character that may be absent or repeated.
      endFactor();
      i = literal.end;
      continue;
    }
    if (caseless && literal.text.codePointAt(0)! > 0x7f) {
      // Under (?i) a non-ASCII letter may match an ASCII one (the Kelvin sign matches k).
      endFactor();
    } else {
      append([caseless ? literal.text.toLowerCase() : literal.text]);
    }
    i = literal.end;
  }
  endFactor();
  let best: string[] | undefined;
  const weakest = (set: readonly string[]) => Math.min(...set.map((text) => text.length));
  for (const factor of factors)
    if (best === undefined || weakest(factor) > weakest(best)) best = factor;
  return best === undefined ? undefined : { anyOf: best, ignoreCase: caseless };
}

/**
 * The character at `i` as a literal (`text`), or a non-literal escape (`text` undefined), and
 * where it ends; `undefined` for what this reader does not handle.
 */
function literalAt(
  source: string,
  i: number,
): { text: string | undefined; end: number } | undefined {
  const char = source[i]!;
  if (char !== '\\') {
    const text = String.fromCodePoint(source.codePointAt(i)!);
    return { text, end: i + text.length };
  }
  const next = source[i + 1];
  if (next === undefined || next === 'Q') return undefined;
  if (!/[\p{L}\p{N}]/u.test(next)) return { text: next, end: i + 2 };
  // A class, an assertion or a code (`\s`, `\b`, `\x41`, `\p{Greek}`): not a plain literal.
  if ((next === 'p' || next === 'P' || next === 'x') && source[i + 2] === '{') {
    const close = source.indexOf('}', i);
    return close === -1 ? undefined : { text: undefined, end: close + 1 };
  }
  return { text: undefined, end: i + 2 };
}

/** `(a|bc)` or `(?:a|bc)` as its literal alternatives, or undefined for anything richer. */
function literalChoices(group: string, caseless: boolean): string[] | undefined {
  const body = group.startsWith('(?:')
    ? group.slice(3, -1)
    : group.startsWith('(?')
      ? undefined
      : group.slice(1, -1);
  if (body === undefined) return undefined;
  const choices: string[] = [];
  let text = '';
  for (let i = 0; i < body.length; ) {
    if (body[i] === '|') {
      choices.push(text);
      text = '';
      i++;
      continue;
    }
    if ('.+*?()[]{}^$'.includes(body[i]!)) return undefined;
    const literal = literalAt(body, i);
    if (literal?.text === undefined) return undefined;
    if (caseless && literal.text.codePointAt(0)! > 0x7f) return undefined;
    text += caseless ? literal.text.toLowerCase() : literal.text;
    i = literal.end;
  }
  choices.push(text);
  return choices.length > MAX_ALTERNATIVES ? undefined : choices;
}

/**
 * Under `(?i)`, RE2 folds an ASCII letter's whole case orbit: `k` also matches the Kelvin sign
 * and `s` the long s. JavaScript's non-Unicode `i` flag folds ASCII letters to ASCII only, so a
 * text holding either character goes to the regex engine (a test checks every code point against
 * re2js, so a new exception cannot slip in unnoticed).
 */
const FOLDS_ONTO_ASCII = /[\u017f\u212a]/;

/** A test that is false only when the text cannot match: the literal is certainly absent. */
export function prefilter(literal: RequiredLiteral): (text: string) => boolean {
  const needles = literal.anyOf;
  if (!literal.ignoreCase) {
    return (text) => {
      for (let i = 0; i < needles.length; i++) if (text.includes(needles[i]!)) return true;
      return false;
    };
  }
  // A choice of plain literals: linear for any input, even on a backtracking engine.
  const search = new RegExp(
    needles.map((needle) => needle.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'),
    'i',
  );
  return (text) => FOLDS_ONTO_ASCII.test(text) || search.test(text);
}

export type ExactLiteral = {
  readonly text: string;
  readonly start: boolean;
  readonly end: boolean;
};

/**
 * A pattern that is nothing but literal text, optionally anchored (`^/etc/`, `\.pem$`, `rm -rf`),
 * case-sensitive: it is decided by `startsWith`, `endsWith`, `includes` or `===` exactly as RE2
 * decides it (`^` and `$` without `(?m)` are the ends of the text, as in Rust).
 */
export function exactLiteral(source: string): ExactLiteral | undefined {
  let body = source;
  const start = body.startsWith('^');
  if (start) body = body.slice(1);
  const end = body.endsWith('$') && !body.endsWith('\\$');
  if (end) body = body.slice(0, -1);
  let text = '';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char === '\\') {
      const next = body[i + 1];
      if (next === undefined || /[\p{L}\p{N}\s]/u.test(next)) return undefined;
      text += next;
      i++;
    } else if ('.+*?()[]{}|^$'.includes(char)) {
      return undefined;
    } else {
      text += char;
    }
  }
  return { text, start, end };
}

export function testExact(literal: ExactLiteral, text: string): boolean {
  if (literal.start && literal.end) return text === literal.text;
  if (literal.start) return text.startsWith(literal.text);
  if (literal.end) return text.endsWith(literal.text);
  return text.includes(literal.text);
}

/** The index just past the group opening at `start`, or -1. */
function skipGroup(source: string, start: number): number {
  let depth = 0;
  for (let i = start; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      if (source[i + 1] === 'Q') return -1;
      i++;
    } else if (char === '[') {
      const end = skipClass(source, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The index just past the class opening at `start`, or -1. */
function skipClass(source: string, start: number): number {
  let i = start + 1;
  if (source[i] === '^') i++;
  if (source[i] === ']') i++;
  for (; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      i++;
    } else if (char === '[' && source[i + 1] === ':') {
      const end = source.indexOf(':]', i + 2);
      if (end === -1) return -1;
      i = end + 1;
    } else if (char === '[') {
      const end = skipClass(source, i);
      if (end === -1) return -1;
      i = end - 1;
    } else if (char === ']') {
      return i + 1;
    }
  }
  return -1;
}
