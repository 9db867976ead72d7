/**
 * Exact questions about the sets of names that name patterns match, for `lintPolicy`: is there a
 * name in each of these sets and in none of those? Subsumption ("nothing in A outside B") and
 * overlap ("something in both") are that one search, run over the patterns' automata side by side.
 *
 * The automata read code points exactly as the engine's matcher does (`*` and `?` never match a
 * newline, a negated class does). The search is a breadth-first walk of the product of their
 * subset constructions, so a "none" answer is a proof; it stops after a budget and then answers
 * "unknown", which callers treat as "cannot tell" (never as a proof).
 */
import type { NamePattern } from './name-pattern.js';
import { parseWildcard, type WildcardToken } from './wildcard.js';

type Token = WildcardToken | { readonly kind: 'everything' };

/** One pattern as tokens; `everything` matches any run of code points, newlines included. */
export interface Automaton {
  readonly source: string;
  readonly tokens: readonly Token[];
}

/** A union of patterns: a name is in it when one of them matches. */
export type NameSet = readonly Automaton[];

const NEWLINE = 0x0a;
const MAX_CODE_POINT = 0x10ffff;

/** Every string, newlines included: what an absent `resources` (or `action_types`…) matches. */
export const EVERY_NAME: NameSet = Object.freeze([
  { source: '(any name)', tokens: [{ kind: 'everything' }] },
]);

const automata = new Map<string, Automaton>();

export function automatonOf(pattern: NamePattern): Automaton {
  const known = automata.get(pattern.source);
  if (known !== undefined) return known;
  let tokens: readonly Token[];
  if (pattern.exact) {
    tokens = Array.from(pattern.source, (char) => ({
      kind: 'literal' as const,
      codePoint: char.codePointAt(0)!,
    }));
  } else {
    const parsed = parseWildcard(pattern.source, { escapes: false, excluded: NEWLINE });
    // A compiled NamePattern always parses; this is only here to keep the types honest.
    if (!parsed.ok) throw new Error(`cannot parse name pattern "${pattern.source}"`);
    tokens = parsed.tokens;
  }
  const automaton = { source: pattern.source, tokens };
  if (automata.size < 4096) automata.set(pattern.source, automaton);
  return automaton;
}

/** The set a `match_on` list matches; `undefined` (the key is absent) is every name. */
export function nameSetOf(patterns: readonly NamePattern[] | undefined): NameSet {
  return patterns === undefined ? EVERY_NAME : patterns.map(automatonOf);
}

export type Search =
  | { readonly kind: 'found'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown' };

/** Work allowed per search, in automaton steps; past it the answer is `unknown`. */
const DEFAULT_BUDGET = 400_000;

/**
 * A shortest name that is in every set of `inAll` and in no pattern of `inNone`, `none` when
 * there is provably no such name, `unknown` when the budget ran out first.
 */
export function findName(
  inAll: readonly NameSet[],
  inNone: NameSet = [],
  budget = DEFAULT_BUDGET,
): Search {
  const all = [...inAll.flat(), ...inNone];
  const groups: number[][] = [];
  let next = 0;
  for (const set of inAll) {
    groups.push(set.map(() => next++));
  }
  const negatives = inNone.map(() => next++);
  const alphabet = alphabetOf(all);

  const start = all.map((automaton) => close(automaton.tokens, [0]));
  const keyOf = (states: readonly (readonly number[])[]) =>
    states.map((set) => set.join(',')).join('|');
  const accepts = (states: readonly (readonly number[])[], index: number) =>
    states[index]!.includes(all[index]!.tokens.length);
  const alive = (states: readonly (readonly number[])[]) =>
    groups.every((group) => group.some((index) => states[index]!.length > 0));
  const done = (states: readonly (readonly number[])[]) =>
    groups.every((group) => group.some((index) => accepts(states, index))) &&
    negatives.every((index) => !accepts(states, index));

  if (!alive(start)) return { kind: 'none' };
  const seen = new Set<string>([keyOf(start)]);
  let queue: { states: number[][]; name: string }[] = [{ states: start, name: '' }];
  let work = 0;
  while (queue.length > 0) {
    const following: { states: number[][]; name: string }[] = [];
    for (const { states, name } of queue) {
      if (done(states)) return { kind: 'found', name };
      for (const codePoint of alphabet) {
        work += all.length;
        if (work > budget) return { kind: 'unknown' };
        const stepped = all.map((automaton, index) =>
          advance(automaton.tokens, states[index]!, codePoint),
        );
        if (!alive(stepped)) continue;
        const key = keyOf(stepped);
        if (seen.has(key)) continue;
        seen.add(key);
        following.push({ states: stepped, name: name + String.fromCodePoint(codePoint) });
      }
    }
    queue = following;
  }
  return { kind: 'none' };
}

/** Whether every name in `inner` is in `outer` (false when that cannot be shown). */
export function isSubset(inner: NameSet, outer: NameSet, budget = DEFAULT_BUDGET): boolean {
  if (outer.includes(EVERY_NAME[0]!)) return true;
  return findName([inner], outer, budget).kind === 'none';
}

/** Whether the automaton is a plain name (its `source` is then the one name it matches). */
export function isLiteral(automaton: Automaton): boolean {
  return automaton.tokens.every((token) => token.kind === 'literal');
}

/**
 * A few names the pattern matches, for cheap "no" answers: its shortest name, and one with each
 * star standing for a character that patterns rarely name. Each is checked against the pattern.
 */
export function samplesOf(automaton: Automaton): string[] {
  const known = samples.get(automaton);
  if (known !== undefined) return known;
  const spell = (star: string) => {
    let name = '';
    for (const token of automaton.tokens) {
      if (token.kind === 'literal') name += String.fromCodePoint(token.codePoint);
      else if (token.kind === 'star' || token.kind === 'everything') name += star;
      else if (token.kind === 'any') name += 'x';
      else {
        const member = [0x78, 0x61, 0x30, 0x5f, token.ranges[0]!].find(
          (codePoint) => inClass(token, codePoint) && codePoint !== NEWLINE,
        );
        if (member === undefined) return undefined;
        name += String.fromCodePoint(member);
      }
    }
    return name;
  };
  const found = ['', '\u00a7']
    .map(spell)
    .filter((name): name is string => name !== undefined && nameIn([automaton], name));
  const unique = [...new Set(found)];
  samples.set(automaton, unique);
  return unique;
}

const samples = new WeakMap<Automaton, string[]>();

function inClass(token: Extract<WildcardToken, { kind: 'class' }>, codePoint: number): boolean {
  let inside = false;
  for (let r = 0; r < token.ranges.length; r += 2) {
    if (codePoint >= token.ranges[r]! && codePoint <= token.ranges[r + 1]!) inside = true;
  }
  return inside !== token.negated;
}

/**
 * Whether two patterns provably match no common name because their literal starts (or ends)
 * differ: every name of `read_*` starts with `read_`, so none is also a name of `get*`.
 */
export function literalEndsClash(a: Automaton, b: Automaton): boolean {
  const clash = (x: readonly number[], y: readonly number[]) =>
    x.some((codePoint, index) => index < y.length && codePoint !== y[index]);
  return (
    clash(literalRun(a.tokens), literalRun(b.tokens)) ||
    clash(literalRun([...a.tokens].reverse()), literalRun([...b.tokens].reverse()))
  );
}

function literalRun(tokens: readonly Token[]): number[] {
  const run: number[] = [];
  for (const token of tokens) {
    if (token.kind !== 'literal') break;
    run.push(token.codePoint);
  }
  return run;
}

/** Whether `name` is in the set, read code point by code point as the engine reads it. */
export function nameIn(set: NameSet, name: string): boolean {
  return set.some(({ tokens }) => {
    let states = close(tokens, [0]);
    for (const char of name) {
      states = advance(tokens, states, char.codePointAt(0)!);
      if (states.length === 0) return false;
    }
    return states.includes(tokens.length);
  });
}

/** States reached from `states` (ascending) on one code point, closed over stars; ascending. */
function advance(tokens: readonly Token[], states: readonly number[], codePoint: number): number[] {
  const reached: number[] = [];
  for (const state of states) {
    if (state >= tokens.length) continue;
    const target = step(tokens[state]!, state, codePoint);
    // Targets of ascending states ascend too (each is the state or the next): skip repeats.
    if (target >= 0 && reached.at(-1) !== target) reached.push(target);
  }
  return close(tokens, reached);
}

/** The engine's step (wildcard.ts), plus `everything`, which also takes a newline. */
function step(token: Token, state: number, codePoint: number): number {
  switch (token.kind) {
    case 'everything':
      return state;
    case 'star':
      return codePoint === NEWLINE ? -1 : state;
    case 'any':
      return codePoint === NEWLINE ? -1 : state + 1;
    case 'literal':
      return codePoint === token.codePoint ? state + 1 : -1;
    case 'class':
      return inClass(token, codePoint) ? state + 1 : -1;
  }
}

/** A star may match nothing: being before it is also being after it. Ascending in and out. */
function close(tokens: readonly Token[], states: readonly number[]): number[] {
  const closed: number[] = [];
  let highest = -1;
  for (let state of states) {
    if (state <= highest) continue;
    closed.push(state);
    while (state < tokens.length && isStar(tokens[state]!)) closed.push(++state);
    highest = state;
  }
  return closed;
}

function isStar(token: Token): boolean {
  return token.kind === 'star' || token.kind === 'everything';
}

/**
 * One code point per class of code points that every token treats alike: the intervals between
 * the literals, class bounds and the newline. Reading one of each is reading them all.
 */
function alphabetOf(automata: readonly Automaton[]): number[] {
  // Surrogates get their own interval so that a representative is a whole character if it can be.
  const bounds = new Set([0, NEWLINE, NEWLINE + 1, 0xd800, 0xe000, MAX_CODE_POINT + 1]);
  for (const { tokens } of automata) {
    for (const token of tokens) {
      if (token.kind === 'literal') bounds.add(token.codePoint).add(token.codePoint + 1);
      if (token.kind === 'class') {
        for (let r = 0; r < token.ranges.length; r += 2) {
          bounds.add(token.ranges[r]!).add(token.ranges[r + 1]! + 1);
        }
      }
    }
  }
  const sorted = [...bounds].sort((a, b) => a - b);
  const alphabet: number[] = [];
  for (let i = 0; i + 1 < sorted.length; i++)
    alphabet.push(representative(sorted[i]!, sorted[i + 1]!));
  return alphabet;
}

/** A readable member of [low, high): `x`, else a letter or digit, else the first printable one. */
function representative(low: number, high: number): number {
  const inside = (codePoint: number) => codePoint >= low && codePoint < high;
  for (const char of 'xyzabcdefghijklmnopqrstuvw0123456789_-') {
    const codePoint = char.codePointAt(0)!;
    if (inside(codePoint)) return codePoint;
  }
  if (inside(0x21) || (low > 0x21 && low < 0xd800)) return Math.max(low, 0x21);
  return low;
}
