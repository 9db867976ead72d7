/**
 * The `shell` condition operator: the command line in a field runs a command that matches. The
 * line is read by shell.ts; this file compiles the operator's value once (name patterns, regexes,
 * globs, flag alternatives) and matches each command it found.
 *
 * It errs towards matching, since it guards deny rules: a line that cannot be read matches (it
 * could run anything), and a word only known at run time (`$X`, `$(…)`) matches any program,
 * flag, argument or subcommand, and a redirection to it any path.
 */
import { compilePathGlob, type PathGlob } from './glob.js';
import { compileNamePattern, type NamePattern } from './name-pattern.js';
import { normalizePath } from './paths.js';
import type { CompiledRegex, RegexResult } from './regex.js';
import { parseShell, type ShellParseResult, type ShellWord, type SimpleCommand } from './shell.js';

/** The operator's `value`, as the schema admits it. */
export interface ShellMatchDocument {
  readonly program?: readonly string[] | undefined;
  readonly flags?: readonly (readonly string[])[] | undefined;
  readonly args?: readonly string[] | 'none' | undefined;
  readonly subcommand?: readonly string[] | undefined;
  readonly piped?: boolean | 'command' | undefined;
  readonly writes_to?: readonly string[] | undefined;
  readonly unknown_program?: boolean | undefined;
  readonly host_access?: boolean | undefined;
}

export interface ShellMatcher {
  /** Whether the field's value runs a matching command (a string that cannot be read does). */
  test(actual: unknown): boolean;
  /** Which command matched, or why the operator holds or not, for `explain`. */
  explain(actual: unknown): string;
}

export interface ShellMatchProblem {
  /** Inside `value`. */
  readonly path: readonly (string | number)[];
  readonly code: string;
  readonly message: string;
}

export type ShellMatchResult =
  | { readonly ok: true; readonly matcher: ShellMatcher }
  | { readonly ok: false; readonly problems: readonly ShellMatchProblem[] };

type Check = (command: SimpleCommand, view: CommandView) => boolean;

/** Compiles the operator's value once; evaluation then only reads the command line. */
export function compileShellMatch(
  value: ShellMatchDocument,
  options: {
    readonly ignoreCase: boolean;
    readonly regexes: (source: string, ignoreCase: boolean) => RegexResult;
  },
): ShellMatchResult {
  const { ignoreCase } = options;
  const fold = ignoreCase ? (text: string) => text.toLowerCase() : (text: string) => text;
  const problems: ShellMatchProblem[] = [];
  const checks: Check[] = [];

  if (value.unknown_program !== undefined) {
    const wanted = value.unknown_program;
    checks.push((command) => command.programUnknown === wanted);
  }
  if (value.program !== undefined) {
    const patterns = namePatterns(value.program, 'program', problems, true);
    checks.push(
      (command) =>
        command.programUnknown ||
        patterns.some((pattern) => pattern.test(command.program.toLowerCase())),
    );
  }
  if (value.subcommand !== undefined) {
    const patterns = namePatterns(value.subcommand, 'subcommand', problems, ignoreCase);
    checks.push(
      (command, view) =>
        command.programUnknown ||
        view.subcommands.some(
          (word) => word.dynamic || patterns.some((pattern) => pattern.test(fold(word.text))),
        ),
    );
  }
  if (value.flags !== undefined) {
    const groups = value.flags.map((group, index) =>
      group.map((flag, position) => {
        const test = flagTest(flag, ignoreCase);
        if (test === undefined) {
          problems.push({
            path: ['flags', index, position],
            code: 'invalid_flag',
            message: `"${flag}" is not a flag: write -x, --name or -name`,
          });
        }
        return test ?? (() => false);
      }),
    );
    checks.push(
      (command, view) =>
        command.programUnknown ||
        view.anyFlag ||
        groups.every((group) => group.some((test) => test(view))),
    );
  }
  if (value.args === 'none') {
    // A word only known at run time may expand to nothing.
    checks.push(
      (command, view) => command.programUnknown || view.operands.every((word) => word.dynamic),
    );
  } else if (value.args !== undefined) {
    const regexes: CompiledRegex[] = [];
    value.args.forEach((source, index) => {
      const result = options.regexes(source, ignoreCase);
      if (result.ok) regexes.push(result.regex);
      else problems.push({ path: ['args', index], code: 'invalid_regex', message: result.message });
    });
    checks.push(
      (command, view) =>
        command.programUnknown ||
        view.operands.some(
          (word) => word.dynamic || regexes.some((regex) => regex.test(word.text)),
        ),
    );
  }
  if (value.piped === 'command') {
    checks.push((command) => command.pipedFromCommand);
  } else if (value.piped !== undefined) {
    const wanted = value.piped;
    checks.push((command) => command.piped === wanted);
  }
  if (value.writes_to !== undefined) {
    const globs: PathGlob[] = [];
    value.writes_to.forEach((source, index) => {
      const result = compilePathGlob(source, { ignoreCase });
      if (result.ok) globs.push(result.glob);
      else
        problems.push({
          path: ['writes_to', index],
          code: 'invalid_glob',
          message: result.message,
        });
    });
    checks.push((command) =>
      command.writesTo.some(
        (word) =>
          word.dynamic ||
          (word.tree === true
            ? globs.some((glob) => glob.testUnder(targetPath(word.text)))
            : globs.some((glob) => glob.test(targetPath(word.text)))),
      ),
    );
  }
  if (value.host_access !== undefined) {
    const wanted = value.host_access;
    // A program only known at run time may be `docker run --privileged`, or may not.
    checks.push((command) => command.programUnknown || command.hostAccess === wanted);
  }
  if (checks.length === 0) {
    problems.push({
      path: [],
      code: 'empty_shell_match',
      message:
        'must name at least one of program, flags, args, subcommand, piped, writes_to, unknown_program, host_access',
    });
  }
  if (problems.length > 0) return { ok: false, problems };

  const matches = (command: SimpleCommand) => {
    const view = viewOf(command, ignoreCase);
    for (let i = 0; i < checks.length; i++) if (!checks[i]!(command, view)) return false;
    return true;
  };
  const firstMatch = (actual: unknown): SimpleCommand | string | undefined => {
    if (typeof actual !== 'string') return 'it is not text';
    const parsed = parseCached(actual);
    if (!parsed.ok) return `it cannot be read: ${parsed.reason}`;
    return parsed.commands.find(matches);
  };
  return {
    ok: true,
    matcher: {
      test: (actual) => firstMatch(actual) !== undefined,
      explain(actual) {
        const found = firstMatch(actual);
        if (typeof found === 'string') return `holds, as ${found}, so it could run anything`;
        if (found !== undefined) return `runs ${JSON.stringify(shorten(found.text))}`;
        if (typeof actual !== 'string') return 'no command';
        const parsed = parseCached(actual);
        const programs = parsed.ok ? parsed.commands.map((command) => command.program) : [];
        return programs.length === 0
          ? 'runs no command'
          : `runs nothing that matches (${shorten(programs.join(', '))})`;
      },
    },
  };
}

function namePatterns(
  sources: readonly string[],
  key: string,
  into: ShellMatchProblem[],
  lower: boolean,
): NamePattern[] {
  const patterns: NamePattern[] = [];
  sources.forEach((source, index) => {
    const result = compileNamePattern(lower ? source.toLowerCase() : source);
    if (result.ok) patterns.push(result.pattern);
    else into.push({ path: [key, index], code: 'invalid_glob', message: result.message });
  });
  return patterns;
}

/** One flag alternative: `-x` (also inside `-xyz`), `--name` (or a prefix of it), `-name`. */
function flagTest(flag: string, ignoreCase: boolean): ((view: CommandView) => boolean) | undefined {
  const wanted = ignoreCase ? flag.toLowerCase() : flag;
  if (wanted.startsWith('--')) {
    if (wanted.length < 3 || wanted.includes('=')) return undefined;
    // GNU getopt accepts any unambiguous prefix: `--rec` is `--recursive` for rm.
    return (view) => view.longs.some((written) => wanted.startsWith(written));
  }
  if (!wanted.startsWith('-') || wanted.length < 2 || wanted.includes('=')) return undefined;
  if (wanted.length === 2) {
    const letter = wanted[1]!;
    return (view) => view.shorts.has(letter);
  }
  return (view) => view.words.has(wanted);
}

/** A command's arguments sorted for matching, computed once per command and case. */
interface CommandView {
  /** Letters of short-option words (`-rf` gives r and f). */
  readonly shorts: ReadonlySet<string>;
  /** Long options as written, before any `=` (`--rec`). */
  readonly longs: readonly string[];
  /** Every option word before any `=`, for single-dash long options (`-delete`). */
  readonly words: ReadonlySet<string>;
  /** A word only known at run time stands where options are read: it may be any option. */
  readonly anyFlag: boolean;
  /** The words that are not options (everything after `--` included). */
  readonly operands: readonly ShellWord[];
  /** Where the subcommand may be: the first operand, and the next while each may be a value. */
  readonly subcommands: readonly ShellWord[];
}

const views = new WeakMap<SimpleCommand, CommandView>();
const foldedViews = new WeakMap<SimpleCommand, CommandView>();

function viewOf(command: SimpleCommand, ignoreCase: boolean): CommandView {
  const cache = ignoreCase ? foldedViews : views;
  let view = cache.get(command);
  if (view === undefined) {
    view = buildView(command, ignoreCase);
    cache.set(command, view);
  }
  return view;
}

function buildView(command: SimpleCommand, ignoreCase: boolean): CommandView {
  const shorts = new Set<string>();
  const longs: string[] = [];
  const words = new Set<string>();
  const operands: ShellWord[] = [];
  const subcommands: ShellWord[] = [];
  let anyFlag = false;
  let options = true;
  /** The previous word was an option without `=`: this one may be its value. */
  let mayBeValue = false;
  let subcommandsDone = false;
  for (const word of command.args) {
    const text = ignoreCase ? word.text.toLowerCase() : word.text;
    const isOption = options && !word.dynamic && text.length > 1 && text.startsWith('-');
    if (options && !word.dynamic && text === '--') {
      options = false;
      continue;
    }
    if (isOption) {
      const equals = text.indexOf('=');
      const name = equals === -1 ? text : text.slice(0, equals);
      words.add(name);
      if (name.startsWith('--')) {
        if (name.length > 2) longs.push(name);
      } else {
        for (let i = 1; i < name.length; i++) shorts.add(name[i]!);
      }
      mayBeValue = equals === -1;
      continue;
    }
    if (options && word.dynamic) anyFlag = true;
    const operand = ignoreCase ? { text, dynamic: word.dynamic } : word;
    operands.push(operand);
    if (!subcommandsDone) {
      subcommands.push(operand);
      subcommandsDone = !mayBeValue || word.dynamic || !options;
    }
    mayBeValue = false;
  }
  return { shorts, longs, words, anyFlag, operands, subcommands };
}

/** A redirection target as a path: `/tmp/../etc/x` is `/etc/x`. */
function targetPath(text: string): string {
  return text === '' ? text : normalizePath(text);
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

// Rules usually test one command line several times in a row (one condition per rule): the last
// few readings are kept. Pure: the same text always reads the same.
const CACHE_SIZE = 4;
const cachedTexts: string[] = [];
const cachedResults: ShellParseResult[] = [];

function parseCached(text: string): ShellParseResult {
  for (let i = 0; i < cachedTexts.length; i++) {
    if (cachedTexts[i] === text) return cachedResults[i]!;
  }
  const result = parseShell(text);
  if (cachedTexts.length >= CACHE_SIZE) {
    cachedTexts.pop();
    cachedResults.pop();
  }
  cachedTexts.unshift(text);
  cachedResults.unshift(result);
  return result;
}
