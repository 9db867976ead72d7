/**
 * Regexes from policies, in the Rust `regex` crate's syntax, run by re2js: an RE2 port whose
 * matching time is linear in the input, so no argument an agent sends can make a rule slow.
 *
 * The Rust crate's `\d`, `\w` and `\s` are Unicode-aware; RE2's are ASCII. To decide as the Rust
 * Kvlar did (an Arabic-Indic "٣" is a `\d` there), those escapes are rewritten to their Unicode
 * classes before compiling, unless the pattern turns Unicode off with `(?-u)`. `\b` stays ASCII:
 * see docs/policy-format.md.
 */
import { RE2JS } from 're2js';
import { exactLiteral, prefilter, requiredLiteral, testExact } from './regex-prefilter.js';

export interface CompiledRegex {
  readonly source: string;
  test(text: string): boolean;
}

export type RegexResult =
  | { readonly ok: true; readonly regex: CompiledRegex }
  | { readonly ok: false; readonly message: string };

const WORD =
  '\\p{L}\\p{Nl}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}\\x{24B6}-\\x{24E9}\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}';
const SPACE =
  '\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}';

const OUTSIDE_CLASS: Readonly<Record<string, string>> = {
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  w: `[${WORD}]`,
  W: `[^${WORD}]`,
  s: `[${SPACE}]`,
  S: `[^${SPACE}]`,
};
const INSIDE_CLASS: Readonly<Record<string, string>> = {
  d: '\\p{Nd}',
  D: '\\P{Nd}',
  w: WORD,
  s: SPACE,
};

const UNICODE_OFF = /\(\?[a-zA-Z]*-[a-zA-Z]*u/;
const FLAG_GROUP = /\(\?([a-zA-Z]*)-([a-zA-Z]*)([:)])/g;

export function compileRegex(
  source: string,
  options?: {
    ignoreCase?: boolean;
    /** For tests: run every search on re2js, without the literal shortcuts. */
    prefilter?: boolean;
  },
): RegexResult {
  const translated = translate(source);
  try {
    const compiled = RE2JS.compile(options?.ignoreCase ? `(?i)${translated}` : translated);
    const fast = options?.prefilter !== false;
    const exact = fast && !options?.ignoreCase ? exactLiteral(source) : undefined;
    const literal = fast ? requiredLiteral(source, options?.ignoreCase) : undefined;
    let test: (text: string) => boolean;
    if (exact !== undefined) test = (text) => testExact(exact, text);
    else if (literal !== undefined) {
      const mayMatch = prefilter(literal);
      test = (text) => mayMatch(text) && compiled.test(text);
    } else test = (text) => compiled.test(text);
    return { ok: true, regex: { source, test } };
  } catch (error) {
    return { ok: false, message: invalidRegex(source, error) };
  }
}

/** Where a regex matches in a text: UTF-16 offsets, `end` after the last unit. */
export interface RegexSpan {
  readonly start: number;
  readonly end: number;
}

/** A regex that says where it matches (for redaction), in the policy syntax and linear time. */
export interface RegexFinder {
  readonly source: string;
  /**
   * Every non-empty match, left to right, not overlapping: the span of the group named `secret`
   * when the regex has one (and it took part), else the whole match.
   */
  spans(text: string): RegexSpan[];
}

export type FinderResult =
  | { readonly ok: true; readonly finder: RegexFinder }
  | { readonly ok: false; readonly message: string };

/** `compileRegex`'s syntax and engine, for finding matches rather than testing for one. */
export function compileFinder(source: string): FinderResult {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(translate(source));
  } catch (error) {
    return { ok: false, message: invalidRegex(source, error) };
  }
  const hasSecret = Object.hasOwn(compiled.namedGroups(), 'secret');
  const literal = requiredLiteral(source);
  const mayMatch = literal === undefined ? undefined : prefilter(literal);
  return {
    ok: true,
    finder: {
      source,
      spans(text) {
        const spans: RegexSpan[] = [];
        if (mayMatch !== undefined && !mayMatch(text)) return spans;
        const matcher = compiled.matcher(text);
        while (matcher.find()) {
          let start = matcher.start();
          let end = matcher.end();
          if (hasSecret && matcher.start('secret') >= 0) {
            start = matcher.start('secret');
            end = matcher.end('secret');
          }
          if (end > start) spans.push({ start, end });
        }
        return spans;
      },
    },
  };
}

/** re2js's compile error, named after the pattern as written. */
function invalidRegex(source: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `invalid regex "${source}": ${message.replace(/^error parsing regexp: /, '')}`;
}

function translate(source: string): string {
  return UNICODE_OFF.test(source) ? withoutUnicodeFlag(source) : unicodeClasses(source);
}

/**
 * RE2's classes are ASCII already, which is what Rust's `(?-u)` asks for; RE2 does not know the
 * flag, so it is dropped: `(?i-u)` becomes `(?i)`, `(?-u:x)` becomes `(?:x)`.
 */
function withoutUnicodeFlag(source: string): string {
  return source.replace(FLAG_GROUP, (_group, on: string, off: string, end: string) => {
    const rest = off.replaceAll('u', '');
    const flags = rest === '' ? on : `${on}-${rest}`;
    if (flags === '') return end === ':' ? '(?:' : '';
    return `(?${flags}${end}`;
  });
}

/** Rewrites `\d` `\w` `\s` (and negations) to Unicode classes, leaving everything else as written. */
function unicodeClasses(source: string): string {
  let out = '';
  let classDepth = 0;
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const next = source[i + 1];
      if (next === undefined) return source; // dangling escape: let the compiler report it
      if (next === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        const stop = end === -1 ? source.length : end + 2;
        out += source.slice(i, stop);
        i = stop - 1;
        continue;
      }
      if ((next === 'p' || next === 'P' || next === 'x') && source[i + 2] === '{') {
        const end = source.indexOf('}', i + 3);
        const stop = end === -1 ? source.length : end + 1;
        out += source.slice(i, stop);
        i = stop - 1;
        continue;
      }
      const replacement = (classDepth > 0 ? INSIDE_CLASS : OUTSIDE_CLASS)[next];
      out += replacement ?? `\\${next}`;
      i++;
      continue;
    }
    if (char === '[') {
      if (classDepth > 0 && source[i + 1] === ':') {
        const end = source.indexOf(':]', i + 2);
        if (end !== -1) {
          out += source.slice(i, end + 2);
          i = end + 1;
          continue;
        }
      }
      classDepth++;
      out += char;
      // A `]` right after `[` or `[^` is a literal member, not the end of the class.
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (source[i + 1] === ']') {
        out += ']';
        i++;
      }
      continue;
    }
    if (char === ']' && classDepth > 0) classDepth--;
    out += char;
  }
  return out;
}
