/**
 * Commands that run other commands: `sudo rm` runs rm, `sh -c 'rm …'` runs a script, `find -exec
 * rm {} ;` runs rm per file. Each wrapper's options are skipped (including those that take a
 * value, `sudo -u user`), so the wrapped command is found; the wrapper stays a command too.
 */
import type { ShellWord, Word } from './shell.js';

/** What unwrapping asks of the reader. */
export interface WrapperHost {
  /** Reads a script given to the command (`sh -c '…'`, `eval …`), one level deeper. */
  parseNested(script: string, expandInSingleQuotes: boolean): void;
  /** Records a command that could be anything (`sh -c "$X"`). */
  emitUnknown(word: ShellWord, writes: readonly ShellWord[]): void;
}

/** The wrapper's own record, which unwrapping may annotate. */
export interface WrapperRecord {
  /** A shell with no `-c`: it reads its script from standard input. */
  stdinScript: boolean;
  readonly writesTo: readonly ShellWord[];
}

interface Options {
  /** Short options that take a value, attached (`-uroot`) or as the next word (`-u root`). */
  readonly values: string;
  /** Long options that take the next word as their value when written without `=`. */
  readonly longValues: readonly string[];
  /** `NAME=value` words may precede the command. */
  readonly assignments?: boolean;
  /** Operands between the options and the command (timeout's duration, ssh's host). */
  readonly operands?: number;
  /** Options may follow operands (`su - root -c '…'`): every word is read as one or the other. */
  readonly permute?: boolean;
  /** An option whose value is a script (`su -c '…'`, `env -S '…'`). */
  readonly script?: { readonly short: string; readonly long: readonly string[] };
  /**
   * What follows the options and operands: a command (the default), a script made of the words
   * joined by spaces (`ssh host rm -rf /`, `watch 'ls | wc'`), or a script in the first word
   * (`trap 'rm -rf /tmp/x' EXIT`), or nothing that runs (su's user name).
   */
  readonly after?: 'command' | 'script' | 'first-word-script' | 'nothing';
}

const NONE: Options = { values: '', longValues: [] };

const WRAPPERS = new Map<string, Options>([
  [
    'sudo',
    {
      values: 'CDghpRrTtUu',
      longValues: [
        '--close-from',
        '--chdir',
        '--group',
        '--host',
        '--prompt',
        '--chroot',
        '--role',
        '--command-timeout',
        '--type',
        '--other-user',
        '--user',
      ],
      assignments: true,
    },
  ],
  ['doas', { values: 'aCu', longValues: [] }],
  [
    'env',
    {
      values: 'uCSP',
      longValues: ['--unset', '--chdir', '--split-string'],
      assignments: true,
      script: { short: 'S', long: ['--split-string'] },
    },
  ],
  ['su', suOptions('')],
  ['runuser', suOptions('u')],
  ['setsid', NONE],
  ['chroot', { values: '', longValues: ['--userspec', '--groups'], operands: 1 }],
  [
    'ssh',
    {
      values: 'BbcDEeFIiJLlmOopQRSWw',
      longValues: [],
      operands: 1,
      after: 'script',
    },
  ],
  ['watch', { values: 'dnq', longValues: ['--interval', '--differences'], after: 'script' }],
  ['trap', { values: '', longValues: [], after: 'first-word-script' }],
  ['nohup', NONE],
  ['nice', { values: 'n', longValues: ['--adjustment'] }],
  ['time', { values: 'fo', longValues: ['--format', '--output'] }],
  ['timeout', { values: 'sk', longValues: ['--signal', '--kill-after'], operands: 1 }],
  ['stdbuf', { values: 'ioe', longValues: ['--input', '--output', '--error'] }],
  [
    'ionice',
    { values: 'cnpPu', longValues: ['--class', '--classdata', '--pid', '--pgid', '--uid'] },
  ],
  ['command', NONE],
  ['builtin', NONE],
  ['exec', { values: 'a', longValues: [] }],
  [
    'xargs',
    {
      values: 'aEILnPsd',
      longValues: [
        '--arg-file',
        '--delimiter',
        '--max-lines',
        '--max-args',
        '--max-procs',
        '--max-chars',
        '--process-slot-var',
      ],
    },
  ],
]);

function suOptions(more: string): Options {
  return {
    values: `cgGsw${more}`,
    longValues: ['--command', '--session-command', '--group', '--supp-group', '--shell'],
    permute: true,
    script: { short: 'c', long: ['--command', '--session-command'] },
    after: 'nothing',
  };
}

const SHELLS = new Set([
  'sh',
  'bash',
  'zsh',
  'dash',
  'ksh',
  'mksh',
  'pdksh',
  'ash',
  'yash',
  'posh',
  'rbash',
  'fish',
  'csh',
  'tcsh',
]);

const FIND_ACTIONS = new Set(['-exec', '-execdir', '-ok', '-okdir']);

/**
 * The commands that `words` (a command whose lower-cased program is `program`) runs in turn, as
 * word lists. Scripts it runs are read through `host` instead.
 */
export function unwrapCommand(
  program: string,
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  if (SHELLS.has(program)) {
    shellScript(words, record, host);
    return [];
  }
  switch (program) {
    case 'eval':
      evalScript(words, record, host);
      return [];
    case 'find':
      return findActions(words);
    case 'busybox': {
      const applet = words[1];
      return applet !== undefined && !applet.text.startsWith('-') ? [words.slice(1)] : [];
    }
  }
  const options = WRAPPERS.get(program);
  if (options === undefined) return [];
  const skipped = skipOptions(words, options);
  if ('unknown' in skipped) {
    host.emitUnknown(skipped.unknown, record.writesTo);
    return [];
  }
  const { index, flags, script } = skipped;
  // `command -v rm`, `ionice -p 42` and `trap -p` name a program, process or signal; they run
  // nothing.
  if (program === 'command' && (flags.includes('v') || flags.includes('V'))) return [];
  if (program === 'ionice' && /[pPu]/.test(flags)) return [];
  const rest = words.slice(index + (options.operands ?? 0));
  if (script !== undefined) {
    // `env -S 'rm -rf' /` splits the string into words, the rest following; `su -c '…'` runs it.
    const tail = program === 'env' ? rest.map((word) => quote(word.text)) : [];
    if (script.dynamic) host.emitUnknown(script, record.writesTo);
    else host.parseNested([script.text, ...tail].join(' '), false);
    return [];
  }
  if (options.after === 'nothing') {
    // `runuser -u user -- command …` runs the command itself.
    const end = words.findIndex((word) => word.text === '--');
    return program === 'runuser' && flags.includes('u') && end !== -1 ? [words.slice(end + 1)] : [];
  }
  if (options.after === 'script' || options.after === 'first-word-script') {
    // `trap - EXIT` and `trap '' INT` reset or ignore a signal.
    const parts =
      options.after === 'script'
        ? rest
        : rest.slice(0, 1).filter((word) => word.text !== '-' && word.text !== '');
    const unknown = parts.find((word) => word.dynamic);
    if (unknown !== undefined) host.emitUnknown(unknown, record.writesTo);
    else if (parts.length > 0) host.parseNested(parts.map((word) => word.text).join(' '), false);
    return [];
  }
  if (program === 'xargs') {
    // The command gets more arguments from the input, which could be anything (`-rf` too).
    const end = words.at(-1)!.end;
    const input = synthetic('(arguments from input)', true, end);
    // With -I STR (-i, --replace) STR stands for an input line wherever it appears, program and
    // script included: such words are only known at run time.
    const replace = xargsReplaceString(words.slice(1, index));
    const filled =
      replace === undefined
        ? rest
        : rest.map((word) => (word.text.includes(replace) ? { ...word, dynamic: true } : word));
    return [filled.length > 0 ? [...filled, input] : [synthetic('echo', false, end), input]];
  }
  return rest.length > 0 ? [rest] : [];
}

type Skipped =
  | {
      readonly index: number;
      /** The short option letters written, in order. */
      readonly flags: string;
      /** The value of the option that takes a script (`su -c`, `env -S`). */
      readonly script: ShellWord | undefined;
    }
  | { readonly unknown: Word };

function skipOptions(words: readonly Word[], options: Options): Skipped {
  let flags = '';
  let script: ShellWord | undefined;
  let i = 1;
  while (i < words.length) {
    const word = words[i]!;
    const text = word.text;
    if (options.assignments && word.assignment) {
      i++;
      continue;
    }
    // An expansion here may be an option or the command itself: nothing after it is known.
    if (word.dynamic) return { unknown: word };
    if (text === '--') {
      i++;
      break;
    }
    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const name = equals === -1 ? text : text.slice(0, equals);
      if (options.script?.long.includes(name)) {
        script = equals === -1 ? words[i + 1] : { text: text.slice(equals + 1), dynamic: false };
      }
      i += equals === -1 && options.longValues.includes(name) ? 2 : 1;
      continue;
    }
    if (text === '-' && options.assignments) {
      i++;
      continue;
    }
    if (text.startsWith('-') && text.length > 1) {
      let next = false;
      for (let j = 1; j < text.length; j++) {
        const letter = text[j]!;
        flags += letter;
        if (options.values.includes(letter)) {
          next = j === text.length - 1;
          if (options.script?.short === letter) {
            script = next ? words[i + 1] : { text: text.slice(j + 1), dynamic: false };
          }
          break;
        }
      }
      i += next ? 2 : 1;
      continue;
    }
    if (options.permute) {
      i++;
      continue;
    }
    break;
  }
  return { index: Math.min(i, words.length), flags, script };
}

/** `sh -c 'script'` reads the script; a shell without `-c` reads standard input. */
function shellScript(words: readonly Word[], record: WrapperRecord, host: WrapperHost): void {
  let command = false;
  let i = 1;
  while (i < words.length) {
    const word = words[i]!;
    const text = word.text;
    // `bash <(curl …)` reads a script from a pipe (the command is `piped`); any other expansion
    // here may be `-c` and a script.
    if (word.processInput) break;
    if (word.dynamic) {
      host.emitUnknown(word, record.writesTo);
      return;
    }
    if (text === '--' || text === '-') {
      i++;
      break;
    }
    if (text.startsWith('--')) {
      i += text === '--rcfile' || text === '--init-file' ? 2 : 1;
      continue;
    }
    if ((text[0] === '-' || text[0] === '+') && text.length > 1) {
      for (let j = 1; j < text.length; j++) {
        if (text[j] === 'c' && text[0] === '-') command = true;
        // -o option, +o option, -O shopt: the next word is the option's name.
        if (text[j] === 'o' || text[j] === 'O') i++;
      }
      i++;
      continue;
    }
    break;
  }
  if (!command) {
    record.stdinScript = true;
    return;
  }
  const script = words[i];
  if (script === undefined) return;
  if (script.dynamic) host.emitUnknown(script, record.writesTo);
  else host.parseNested(script.text, false);
}

/** `eval a b` runs the words joined by spaces as a script. */
function evalScript(words: readonly Word[], record: WrapperRecord, host: WrapperHost): void {
  const args = words.slice(1);
  const unknown = args.find((word) => word.dynamic);
  if (unknown !== undefined) host.emitUnknown(unknown, record.writesTo);
  else if (args.length > 0) host.parseNested(args.map((word) => word.text).join(' '), false);
}

/** `find … -exec cmd {} ;` (or `+`, `-execdir`, `-ok`, `-okdir`): each cmd runs. */
function findActions(words: readonly Word[]): (readonly Word[])[] {
  const commands: (readonly Word[])[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word.dynamic || !FIND_ACTIONS.has(word.text)) continue;
    const start = i + 1;
    let end = start;
    while (end < words.length) {
      const text = words[end]!.text;
      if (text === ';' || (text === '+' && words[end - 1]!.text === '{}')) break;
      end++;
    }
    commands.push(words.slice(start, end));
    i = end;
  }
  return commands;
}

/** The replacement string of xargs' `-I STR`, `-ISTR`, `-i[STR]` or `--replace[=STR]`, if given. */
function xargsReplaceString(options: readonly Word[]): string | undefined {
  let replace: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const text = options[i]!.text;
    if (text === '-I') replace = options[i + 1]?.text ?? replace;
    else if (text.startsWith('-I')) replace = text.slice(2);
    else if (text === '-i' || text === '--replace') replace = '{}';
    else if (text.startsWith('-i')) replace = text.slice(2);
    else if (text.startsWith('--replace=')) replace = text.slice('--replace='.length);
  }
  return replace === '' ? undefined : replace;
}

function synthetic(text: string, dynamic: boolean, at: number): Word {
  return {
    text,
    dynamic,
    glob: false,
    quoted: true,
    assignment: false,
    processInput: false,
    start: at,
    end: at,
  };
}

/** The word single-quoted, so that reading it again gives it back. */
function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
