import { compileFinder, type RegexFinder } from '@kvlar/core';
import { assertJson, invalid } from './canonical.js';
import { AuditError } from './errors.js';
import { createKeyMatcher, DEFAULT_REDACTED_KEYS } from './redact-keys.js';
import { DEFAULT_SECRET_PATTERNS, type SecretPattern } from './secret-patterns.js';

export interface RedactionOptions {
  /** Key patterns (docs/audit.md). Default `DEFAULT_REDACTED_KEYS`; spread it to extend it. */
  readonly keys?: readonly string[];
  /**
   * Value patterns: Kvlar's own (`SecretPattern`, a JavaScript RegExp written to run in linear
   * time) or a user's (`SecretRegex`, run by the policy regex engine, linear whatever it says).
   * Default `DEFAULT_SECRET_PATTERNS`; spread it to extend it.
   */
  readonly values?: readonly (SecretPattern | SecretRegex)[];
}

/**
 * A value pattern from configuration: `regex` in the policy regex syntax (RE2: no look-around,
 * no backreferences), matched in time linear in the text. A group named `secret`, when it takes
 * part in a match, is the only part replaced.
 */
export interface SecretRegex {
  /** Goes into the marker: letters, digits, `_`, `-`, `.`. */
  readonly kind: string;
  readonly regex: string;
}

const KIND = /^[A-Za-z0-9_.-]{1,64}$/;

/** One compiled value pattern: whether a text may hold a match, and the text with it replaced. */
interface ValuePattern {
  readonly contains: string | undefined;
  test(text: string): boolean;
  replace(text: string): string;
}

function valuePattern(pattern: SecretPattern | SecretRegex): ValuePattern {
  if (!KIND.test(pattern.kind)) {
    throw new AuditError(
      'invalid_input',
      `a redaction kind is 1 to 64 letters, digits, '_', '-' or '.', not ${JSON.stringify(pattern.kind)}`,
    );
  }
  const marker = redactionMarker(pattern.kind);
  if ('regex' in pattern) {
    const compiled = compileFinder(pattern.regex);
    if (!compiled.ok) {
      throw new AuditError(
        'invalid_input',
        `redaction pattern ${pattern.kind}: ${compiled.message}`,
      );
    }
    const { finder } = compiled;
    return {
      contains: undefined,
      test: () => true,
      replace: (text) => replaceSpans(text, finder, marker),
    };
  }
  // `g` to find every occurrence, `d` for the `secret` group's offsets.
  const global = new RegExp(
    pattern.pattern.source,
    `${pattern.pattern.flags.replace(/[gdy]/g, '')}gd`,
  );
  const probe = new RegExp(pattern.pattern.source, pattern.pattern.flags.replace(/[gdy]/g, ''));
  return {
    contains: pattern.contains,
    test: (text) => probe.test(text),
    replace: (text) => replaceAll(text, global, marker),
  };
}

/** How `Redactor.value` treats members named like secrets. */
export interface ValueRedactionOptions {
  /**
   * For what a person approving a call sees, rather than for the record: a secret-named member
   * is replaced only when it cannot hold a command (text with no shell syntax, a number, `true`,
   * `false`, `null`); an object or array under such a name is redacted member by member, and
   * text with shell syntax gets the value patterns only. An approval releases the whole call, so
   * a marker must never stand in for something that runs. Default `false`: replaced whole.
   */
  readonly approverView?: boolean;
}

/** Replaces secrets in what a record holds. Pure; compiled once. */
export interface Redactor {
  /** A copy of a JSON value with secret-named members and secret-looking text replaced. */
  value(value: unknown, options?: ValueRedactionOptions): unknown;
  /** A string with secret-looking parts replaced. */
  text(text: string): string;
  /**
   * Throws `invalid_input` exactly where `canonicalJson(value(input))` would, without running a
   * pattern or copying anything: for a sink that shows no parameters but must refuse what a log
   * could not hold. Optional for redactors written elsewhere: without it, `value` is run.
   */
  check?(input: unknown): void;
}

/** Nesting deeper than this is not inspected but replaced whole: what cannot be read is hidden. */
const MAX_DEPTH = 64;

/** A character that starts shell syntax: those the value patterns never take (`PLAIN`). */
const SHELL_SYNTAX = /[\s'"`$\\;&|<>(){},]/;

export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

export function createRedactor(options: RedactionOptions = {}): Redactor {
  const keyKind = createKeyMatcher(options.keys ?? DEFAULT_REDACTED_KEYS);
  const patterns = (options.values ?? DEFAULT_SECRET_PATTERNS).map(valuePattern);

  const text = (input: string): string => {
    let output = input;
    for (const pattern of patterns) {
      if (pattern.contains !== undefined && !output.includes(pattern.contains)) continue;
      // matchAll clones its regex on every call: ask the cheap question first.
      if (pattern.test(output)) output = pattern.replace(output);
    }
    return output;
  };

  const value = (input: unknown, depth: number, approverView: boolean): unknown => {
    if (typeof input === 'string') return text(input);
    // JSON text like `1e400` parses to Infinity, which no JSON line can hold: the record keeps a
    // marker rather than failing, so a call cannot keep itself out of the log with one number.
    if (typeof input === 'number' && !Number.isFinite(input)) {
      return redactionMarker('non_finite_number');
    }
    if (typeof input !== 'object' || input === null) return input;
    if (depth >= MAX_DEPTH) return redactionMarker('too_deep');
    if (Array.isArray(input)) {
      return input.map((item: unknown) => value(item, depth + 1, approverView));
    }
    // Not JSON (a Date, a Map…): left as is for canonicalJson to refuse, never silently emptied.
    const prototype: unknown = Object.getPrototypeOf(input);
    if (prototype !== Object.prototype && prototype !== null) return input;
    // Object.entries/fromEntries keep an own `__proto__` key as data, never as a prototype.
    return Object.fromEntries(
      Object.entries(input).map(([key, member]) => {
        const kind = keyKind(key);
        if (kind === undefined) return [key, value(member, depth + 1, approverView)];
        return [key, approverView ? named(member, kind, depth + 1) : redactionMarker(kind)];
      }),
    );
  };

  // A secret-named member as an approver sees it: hidden where it cannot hold a command. An
  // array's items are under the same name; an object's members have their own names.
  const named = (input: unknown, kind: string, depth: number): unknown => {
    if (typeof input === 'string') {
      return SHELL_SYNTAX.test(input) ? text(input) : redactionMarker(kind);
    }
    if (typeof input !== 'object' || input === null) return redactionMarker(kind);
    if (depth >= MAX_DEPTH) return redactionMarker('too_deep');
    if (Array.isArray(input)) return input.map((item: unknown) => named(item, kind, depth + 1));
    return value(input, depth, true);
  };

  // The walk of `value`, asking only whether its result would be JSON.
  const check = (input: unknown, depth: number): void => {
    if (typeof input === 'number' && !Number.isFinite(input)) return;
    if (typeof input !== 'object' || input === null) {
      assertJson(input);
      return;
    }
    if (depth >= MAX_DEPTH) return;
    if (Array.isArray(input)) {
      for (const item of input) {
        if (item === undefined) throw invalid('undefined in an array');
        check(item, depth + 1);
      }
      return;
    }
    const prototype: unknown = Object.getPrototypeOf(input);
    if (prototype !== Object.prototype && prototype !== null) {
      assertJson(input);
      return;
    }
    for (const [key, member] of Object.entries(input)) {
      if (member !== undefined && keyKind(key) === undefined) check(member, depth + 1);
    }
  };

  return {
    text,
    value: (input, options) => value(input, 0, options?.approverView === true),
    check: (input) => check(input, 0),
  };
}

function replaceSpans(input: string, finder: RegexFinder, marker: string): string {
  const spans = finder.spans(input);
  if (spans.length === 0) return input;
  let output = '';
  let copied = 0;
  for (const { start, end } of spans) {
    output += input.slice(copied, start) + marker;
    copied = end;
  }
  return output + input.slice(copied);
}

function replaceAll(input: string, pattern: RegExp, marker: string): string {
  let output = '';
  let copied = 0;
  for (const match of input.matchAll(pattern)) {
    const [start, end] = match.indices?.groups?.secret ?? match.indices?.[0] ?? [0, 0];
    if (end === start) continue;
    output += input.slice(copied, start) + marker;
    copied = end;
  }
  return copied === 0 ? input : output + input.slice(copied);
}
