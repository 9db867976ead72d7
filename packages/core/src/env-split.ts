/**
 * GNU env's `-S`/`--split-string`: the string is split into words by env itself, not by a shell,
 * and with its own rules (coreutils env.c `build_argv`; `info coreutils 'env invocation'`). A
 * shell's reading of it is wrong both ways: `\_` separates words where a shell reads `_`, a
 * newline or `\v` separates words where a shell ends the command or keeps the character, and `;`
 * or `$(…)` mean nothing to env. So the string is split exactly as env splits it, and what env
 * refuses (an unknown escape, `$X` without braces, an open quote) is `undefined`: the caller
 * treats it as unknown, failing closed, rather than guess which reading a future env picks.
 */
import type { ShellWord } from './shell.js';

/** The characters env separates words with outside quotes (C `isspace`). */
const SPACE = new Set([' ', '\t', '\n', '\v', '\f', '\r']);

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '#': '#',
  $: '$',
  "'": "'",
  '\\': '\\',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * The words env makes of an `-S` string, or `undefined` where env stops with an error. A word
 * holding `${NAME}` is only known at run time (and may vanish when NAME is unset or empty).
 */
export function splitEnvString(text: string): ShellWord[] | undefined {
  const words: { text: string; dynamic: boolean }[] = [];
  let current: { text: string; dynamic: boolean } | undefined;
  let single = false;
  let double = false;
  /** The last character read separated words: the next one starts a word. */
  let separated = true;
  const word = () => {
    if (separated || current === undefined) {
      current = { text: '', dynamic: false };
      words.push(current);
      separated = false;
    }
    return current;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'" && !double) {
      single = !single;
      word();
      i++;
      continue;
    }
    if (c === '"' && !single) {
      double = !double;
      word();
      i++;
      continue;
    }
    if (SPACE.has(c) && !single && !double) {
      separated = true;
      i++;
      continue;
    }
    // `#` starting a word ends the string: a comment, as on a shebang line.
    if (c === '#' && separated) return words;
    if (c === '\\' && !(single && text[i + 1] !== '\\' && text[i + 1] !== "'")) {
      const e = text[i + 1];
      if (e === undefined) return undefined;
      i += 2;
      if (e === '_') {
        // Outside double quotes `\_` separates words; inside, it is a space.
        if (double) word().text += ' ';
        else separated = true;
        continue;
      }
      if (e === 'c') {
        // `\c` ends the string (an error inside double quotes).
        return double ? undefined : words;
      }
      const escaped = ESCAPES[e];
      if (escaped === undefined) return undefined;
      word().text += escaped;
      continue;
    }
    if (c === '$' && !single) {
      const end = variableEnd(text, i);
      if (end === -1) return undefined;
      const target = word();
      target.text += text.slice(i, end);
      target.dynamic = true;
      i = end;
      continue;
    }
    word().text += c;
    i++;
  }
  return single || double ? undefined : words;
}

/** After the `}` of `${NAME}` at `at`, or -1: env expands no other form of `$`. */
function variableEnd(text: string, at: number): number {
  if (text[at + 1] !== '{' || !isNameStart(text[at + 2] ?? '')) return -1;
  let i = at + 3;
  while (isNameChar(text[i] ?? '')) i++;
  return text[i] === '}' ? i + 1 : -1;
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9');
}
