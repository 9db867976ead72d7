/**
 * Commands that run other commands: `sudo rm` runs rm, `sh -c 'rm …'` runs a script, `find -exec
 * rm {} ;` runs rm per file. Each wrapper's options are skipped (including those that take a
 * value, `sudo -u user`), so the wrapped command is found; the wrapper stays a command too.
 */
import { splitEnvString } from './env-split.js';
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

/** How an option takes a value, as getopt's `has_arg`. */
type Argument = 'none' | 'required' | 'optional';

interface Options {
  /**
   * Short options that take no value. With `values` and `optionalValues` this is every short
   * option the program knows: a letter in none of them is refused by its getopt (or read in a way
   * the table does not know, on another system), so the command is unknown.
   */
  readonly flags: string;
  /** Short options that take a value, attached (`-uroot`) or as the next word (`-u root`). */
  readonly values: string;
  /**
   * Short options whose value is optional: only attached (`-d1`); the rest of the cluster is the
   * value, and the next word is never taken (`watch -d rm …` runs rm).
   */
  readonly optionalValues?: string;
  /**
   * Every long option the program knows. GNU getopt_long takes any unambiguous prefix (`--ch` is
   * env's --chdir) and refuses an unknown or ambiguous one, so the whole table is needed to tell
   * which option a prefix names.
   */
  readonly long: ReadonlyMap<string, Argument>;
  /** Words holding `=` may precede the command (`env A=1`, `sudo A=1`): they set variables. */
  readonly assignments?: boolean;
  /** A word `-N`, `--N` or `-+N` is a value (nice's obsolete `nice -10 make`). */
  readonly numericOption?: boolean;
  /** Operands between the options and the command (timeout's duration, ssh's host). */
  readonly operands?: number;
  /** Options may follow operands (`su - root -c '…'`): every word is read as one or the other. */
  readonly permute?: boolean;
  /**
   * The options are read a second time after the operands, up to the first word that is not one
   * and unless `--` came before: OpenSSH restarts getopt after the host, so that `ssh host -t rm
   * -rf /` runs `rm -rf /`.
   */
  readonly optionsAfterOperands?: boolean;
  /**
   * An option whose value is a script (`su -c '…'`), or, with `split`, words that env reads again
   * as its own arguments (`env -S '-i rm -rf' /`).
   */
  readonly script?: {
    readonly short: string;
    readonly long: readonly string[];
    readonly split?: boolean;
  };
  /**
   * Words that, right after the operands, make the next word a script the program runs with
   * `$SHELL -c` (`flock FILE -c '…'`); the program's getopt never sees them.
   */
  readonly scriptAfterOperands?: readonly string[];
  /**
   * The program expands `$VAR` and `%` specifiers in the command's words itself (systemd's
   * ExecStart=, with variables set by `-E`): such words are only known at run time.
   */
  readonly expandsWords?: boolean;
  /**
   * What follows the options and operands: a command (the default), a script made of the words
   * joined by spaces (`ssh host rm -rf /`, `watch 'ls | wc'`), or a script in the first word
   * (`trap 'rm -rf /tmp/x' EXIT`), or nothing that runs (su's user name).
   */
  readonly after?: 'command' | 'script' | 'first-word-script' | 'nothing';
}

/**
 * A long-option table written as the programs document it: `name=` takes a value, `name[=]` takes
 * one only when attached (`--max-lines=2`), a bare `name` takes none.
 */
function longOptions(spec: string): ReadonlyMap<string, Argument> {
  const table = new Map<string, Argument>();
  for (const entry of spec.split(' ')) {
    if (entry === '') continue;
    if (entry.endsWith('[=]')) table.set(entry.slice(0, -3), 'optional');
    else if (entry.endsWith('=')) table.set(entry.slice(0, -1), 'required');
    else table.set(entry, 'none');
  }
  return table;
}

const NO_LONG = longOptions('');
const NONE: Options = { flags: '', values: '', long: NO_LONG };
/** GNU's `--help` and `--version`, which every coreutils and util-linux program has. */
const STANDARD = 'help version';

// The tables are those of sudo 1.9, coreutils 9, util-linux 2.38, findutils 4.9, procps-ng 4,
// GNU time 1.9, systemd 252 and OpenSSH 9, each letter checked against the program, with the
// options later releases added (unshare -l, systemd-run -C, watch -s). Short options of the BSDs,
// macOS and busybox are added too (env -P/-L/-U, xargs -J/-R/-S, chroot -u, time -l): they are
// errors in the GNU programs, where nothing then runs. A letter that takes a value in one version
// and none in another is in neither string, so that it makes the command unknown (ssh -P).
const WRAPPERS = new Map<string, Options>([
  [
    'sudo',
    {
      // -h alone takes the next word as a host unless it is an option or an assignment.
      flags: 'ABbEeHiKklNnPSsVv',
      values: 'aCcDghpRrTtUu',
      long: longOptions(
        'background preserve-env[=] edit set-home login remove-timestamp list preserve-groups ' +
          'shell other-user= validate askpass auth-type= bell close-from= login-class= chdir= ' +
          'group= help host= reset-timestamp no-update non-interactive prompt= chroot= role= ' +
          'stdin command-timeout= type= user= version',
      ),
      assignments: true,
    },
  ],
  ['doas', { flags: 'Lns', values: 'aCu', long: NO_LONG }],
  [
    'env',
    {
      flags: '0iv',
      values: 'uCSPLaU',
      long: longOptions(
        `ignore-environment null unset= chdir= default-signal[=] ignore-signal[=] block-signal[=] list-signal-handling debug split-string= argv0= ${STANDARD}`,
      ),
      assignments: true,
      script: { short: 'S', long: ['split-string'], split: true },
    },
  ],
  ['su', suOptions('')],
  ['runuser', suOptions('u')],
  ['setsid', { flags: 'cfwhV', values: '', long: longOptions(`ctty fork wait ${STANDARD}`) }],
  [
    'chroot',
    // The BSDs' chroot takes -G, -g and -u with a value, and FreeBSD's -n alone.
    {
      flags: 'n',
      values: 'Ggu',
      long: longOptions(`groups= userspec= skip-chdir ${STANDARD}`),
      operands: 1,
    },
  ],
  [
    'ssh',
    {
      // -P takes no value before OpenSSH 9.3 and a tag since: it is in neither, so unknown.
      flags: '1246AaCfGgKkMNnqsTtVvXxYy',
      values: 'BbcDEeFIiJLlmOopQRSWw',
      long: NO_LONG,
      operands: 1,
      optionsAfterOperands: true,
      after: 'script',
    },
  ],
  [
    'watch',
    {
      // -d/--differences take a value only when attached: `watch -d rm …` runs rm.
      flags: 'bCceghprtvwx',
      values: 'nqs',
      optionalValues: 'd',
      long: longOptions(
        `beep color no-color differences[=] errexit chgexit equexit= interval= precise no-title no-wrap exec no-rerun shotsdir= okexit nokeypr ${STANDARD}`,
      ),
      after: 'script',
    },
  ],
  ['trap', { flags: 'lpP', values: '', long: NO_LONG, after: 'first-word-script' }],
  ['nohup', { flags: '', values: '', long: longOptions(STANDARD) }],
  [
    'nice',
    { flags: '', values: 'n', long: longOptions(`adjustment= ${STANDARD}`), numericOption: true },
  ],
  [
    'time',
    {
      flags: 'ahlpqvV',
      values: 'fo',
      long: longOptions(`append format= output= portability quiet verbose ${STANDARD}`),
    },
  ],
  [
    'timeout',
    {
      flags: 'fpv',
      values: 'sk',
      long: longOptions(`kill-after= signal= foreground preserve-status verbose ${STANDARD}`),
      operands: 1,
    },
  ],
  ['stdbuf', { flags: '', values: 'ioe', long: longOptions(`input= output= error= ${STANDARD}`) }],
  [
    'ionice',
    {
      flags: 'htV',
      values: 'cnpPu',
      long: longOptions(`class= classdata= pid= pgid= ignore uid= ${STANDARD}`),
    },
  ],
  [
    'flock',
    {
      // `flock FILE -c '…'` is read after getopt: `-c` is only a script right after the file.
      flags: 'ehnosuxFV',
      values: 'wE',
      long: longOptions(
        `shared exclusive unlock nonblocking nb timeout= wait= conflict-exit-code= close no-fork fcntl verbose ${STANDARD}`,
      ),
      operands: 1,
      scriptAfterOperands: ['-c', '--command'],
    },
  ],
  // The mask (taskset) or priority (chrt) is an operand; with -p the last word is a process.
  [
    'taskset',
    {
      flags: 'achpV',
      values: '',
      long: longOptions(`all-tasks pid cpu-list ${STANDARD}`),
      operands: 1,
    },
  ],
  [
    'chrt',
    {
      flags: 'abdefhimoprRvV',
      values: 'DPT',
      long: longOptions(
        'all-tasks batch deadline fifo idle pid max other rr sched-runtime= sched-period= ' +
          `sched-deadline= reset-on-fork ext verbose ${STANDARD}`,
      ),
      operands: 1,
    },
  ],
  [
    'unshare',
    {
      // The namespace options take a file only when attached (`--mount=FILE`); -m never does.
      flags: 'cfhimnpruCTUV',
      values: 'RwSGl',
      long: longOptions(
        'mount[=] uts[=] ipc[=] net[=] pid[=] user[=] cgroup[=] time[=] fork kill-child[=] ' +
          'mount-proc[=] map-user= map-users= map-group= map-groups= map-root-user map-current-user ' +
          'map-auto propagation= setgroups= keep-caps setuid= setgid= root= wd= monotonic= ' +
          `boottime= mount-binfmt[=] map-subids load-interp= ${STANDARD}`,
      ),
    },
  ],
  [
    'prlimit',
    {
      // Each resource option takes a limit only when attached (`-n1024`, `--nofile=1024`).
      flags: 'hV',
      values: 'po',
      optionalValues: 'cdefilmnqrstuvxy',
      long: longOptions(
        'pid= output= noheadings raw verbose core[=] data[=] nice[=] fsize[=] sigpending[=] ' +
          `memlock[=] rss[=] nofile[=] msgqueue[=] rtprio[=] stack[=] cpu[=] nproc[=] as[=] locks[=] rttime[=] ${STANDARD}`,
      ),
    },
  ],
  [
    'setpriv',
    {
      flags: 'dhV',
      values: '',
      long: longOptions(
        'dump nnp no-new-privs inh-caps= ambient-caps= list-caps ruid= euid= rgid= egid= reuid= ' +
          'regid= clear-groups keep-groups init-groups groups= bounding-set= securebits= ' +
          'pdeathsig= selinux-label= apparmor-profile= reset-env landlock-access= landlock-rule= ' +
          `ptracer= seccomp-filter= ${STANDARD}`,
      ),
    },
  ],
  [
    'runcon',
    // A CONTEXT operand comes first only when no option is given.
    {
      flags: 'c',
      values: 'rtul',
      long: longOptions(`compute range= role= type= user= ${STANDARD}`),
    },
  ],
  [
    'systemd-run',
    {
      flags: 'dGhPqrSt',
      values: 'CEHMpu',
      long: longOptions(
        'help version user system scope unit= description= slice= slice-inherit remain-after-exit ' +
          'send-sighup host= machine= service-type= wait uid= gid= nice= setenv= property= tty ' +
          'pty pipe quiet on-active= on-boot= on-startup= on-unit-active= on-unit-inactive= ' +
          'on-calendar= on-timezone-change on-clock-change timer-property= path-property= ' +
          'socket-property= no-block no-ask-password collect working-directory= same-dir shell ' +
          'capsule= expand-environment= job-mode= ignore-failure background= json=',
      ),
      expandsWords: true,
    },
  ],
  ['command', { flags: 'pvV', values: '', long: NO_LONG }],
  ['builtin', NONE],
  ['exec', { flags: 'cl', values: 'a', long: NO_LONG }],
  [
    'xargs',
    {
      // -e, -i and -l (--eof, --replace, --max-lines) take a value only when attached.
      flags: '0oprtx',
      values: 'aEILnPsdJRS',
      optionalValues: 'eil',
      long: longOptions(
        'null arg-file= delimiter= eof[=] replace[=] max-lines[=] max-args= open-tty max-procs= ' +
          `interactive process-slot-var= no-run-if-empty max-chars= show-limits verbose exit ${STANDARD}`,
      ),
    },
  ],
]);

function suOptions(more: string): Options {
  return {
    flags: 'flmpPhV',
    values: `cgGsw${more}`,
    long: longOptions(
      'command= session-command= fast group= supp-group= login preserve-environment pty shell= ' +
        `whitelist-environment= ${more === 'u' ? 'user= ' : ''}${STANDARD}`,
    ),
    permute: true,
    script: { short: 'c', long: ['command', 'session-command'] },
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
  const { index, flags } = skipped;
  let given = skipped.given;
  let script = skipped.script;
  // env -S put its words in place of the option: the command is found among them.
  const args = skipped.words;
  // `command -v rm`, `ionice -p 42` and `trap -p` name a program, process or signal; they run
  // nothing.
  if (program === 'command' && (flags.includes('v') || flags.includes('V'))) return [];
  if (program === 'ionice' && /[pPu]/.test(flags)) return [];
  // `chrt -m` shows the priority ranges and exits; `taskset -p PID` and `chrt -p PID` show a
  // process's settings. With more words the last is the process, and when it is 0 (`taskset -p
  // 1 rm -rf 0`) the command runs as without -p, so only a lone operand runs nothing.
  if (program === 'chrt' && given.some(({ option }) => option === 'm' || option === 'max')) {
    return [];
  }
  const pid = given.some(({ option }) => option === 'p' || option === 'pid');
  if ((program === 'taskset' || program === 'chrt') && pid && args.length - index <= 1) return [];
  const operands = operandCount(program, options, args[index], given);
  // An operand that is an expansion (`timeout $T rm`) may split into several words, the command
  // among them: the command is only known at run time.
  const expanded = args.slice(index, index + operands).find((word) => word.dynamic);
  if (expanded !== undefined) {
    host.emitUnknown(expanded, record.writesTo);
    return [];
  }
  let rest = args.slice(index + operands);
  if (options.optionsAfterOperands && !skipped.terminated && operands > 0 && rest.length > 0) {
    const again = skipOptions([args[index + operands - 1]!, ...rest], options);
    if ('unknown' in again) {
      host.emitUnknown(again.unknown, record.writesTo);
      return [];
    }
    given = [...given, ...again.given];
    rest = again.words.slice(again.index);
  }
  if (program === 'ssh' && !sshOptionsRunNothing(given, record, host, words.at(-1)!.end)) return [];
  const option = rest[0];
  if (
    option !== undefined &&
    !option.dynamic &&
    options.scriptAfterOperands?.includes(option.text)
  ) {
    // flock refuses `-c` with no script after it.
    if (rest[1] === undefined) return [];
    script = rest[1];
  }
  if (script !== undefined) {
    // `su -c '…'` and `flock FILE -c '…'` run the script.
    if (script.dynamic) host.emitUnknown(script, record.writesTo);
    else host.parseNested(script.text, false);
    return [];
  }
  if (rest.length === 0 && runsUserShell(program, given)) {
    // The user's $SHELL, which reads its commands from standard input.
    host.emitUnknown(synthetic('$SHELL', true, words.at(-1)!.end), record.writesTo);
    return [];
  }
  if (options.after === 'nothing') {
    // `runuser -u user -- command …` runs the command itself.
    const end = args.findIndex((word) => word.text === '--');
    return program === 'runuser' && flags.includes('u') && end !== -1 ? [args.slice(end + 1)] : [];
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
    const replace = xargsReplaceString(given);
    const filled =
      replace === undefined
        ? rest
        : rest.map((word) => (word.text.includes(replace) ? { ...word, dynamic: true } : word));
    return [filled.length > 0 ? [...filled, input] : [synthetic('echo', false, end), input]];
  }
  if (rest.length === 0) return [];
  // systemd-run: `$VAR` in a word is the service's variable (`-E F=-rf rm '${F}' /`).
  return [
    options.expandsWords
      ? rest.map((word) => (/[$%]/.test(word.text) ? { ...word, dynamic: true } : word))
      : rest,
  ];
}

/** ssh's configuration keywords whose value is a command it runs (RemoteCommand on the host). */
const SSH_COMMANDS = new Set([
  'proxycommand',
  'localcommand',
  'knownhostscommand',
  'remotecommand',
]);
/**
 * Keywords that run what cannot be read here: `Match exec` a command, `Include` more
 * configuration, and the others a program or a library of their value.
 */
const SSH_UNKNOWN = new Set([
  'match',
  'include',
  'pkcs11provider',
  'securitykeyprovider',
  'xauthlocation',
]);

/**
 * Reads what ssh's own options run on this machine: `-o ProxyCommand=…` and the other command
 * keywords are scripts; `-o Match …`, `-o Include …`, `-I` (a PKCS#11 library) and `-F` (a
 * configuration file, which may hold any of these) are unknown. `false` when the command is then
 * unknown.
 */
function sshOptionsRunNothing(
  given: readonly Given[],
  record: WrapperRecord,
  host: WrapperHost,
  end: number,
): boolean {
  for (const { option, value } of given) {
    if (value === undefined) continue;
    const unknown = () => {
      host.emitUnknown(synthetic(`-${option} ${value}`, true, end), record.writesTo);
      return false;
    };
    if (option === 'I') return unknown();
    if (option === 'F' && value !== 'none' && value !== '/dev/null') return unknown();
    if (option !== 'o') continue;
    // `Keyword=value`, `Keyword value` or `Keyword = value`, the keyword in any case.
    const match = /^\s*([A-Za-z0-9]+)(?:\s*=\s*|\s+)?([\s\S]*)$/.exec(value);
    const keyword = match?.[1]?.toLowerCase() ?? '';
    if (SSH_UNKNOWN.has(keyword)) return unknown();
    if (SSH_COMMANDS.has(keyword)) host.parseNested(match![2]!, false);
  }
  return true;
}

/**
 * The operands before the command: chrt's priority only when it is a number (newer chrt takes
 * none for SCHED_OTHER and the like: `chrt --other rm …` runs rm), and runcon's CONTEXT only
 * when no option is given.
 */
function operandCount(
  program: string,
  options: Options,
  first: Word | undefined,
  given: readonly Given[],
): number {
  if (program === 'chrt' && first !== undefined && !/^[0-9]+$/.test(first.text)) return 0;
  if (program === 'runcon') return given.length === 0 ? 1 : 0;
  return options.operands ?? 0;
}

/** unshare with no program, and `systemd-run --shell`, run the user's $SHELL. */
function runsUserShell(program: string, given: readonly Given[]): boolean {
  const has = (...names: string[]) => given.some(({ option }) => names.includes(option));
  if (program === 'unshare') return !has('h', 'V', 'help', 'version');
  return program === 'systemd-run' && has('S', 'shell');
}

/** An option as the program read it: a short letter or a long name in full, and its value. */
interface Given {
  readonly option: string;
  readonly value: string | undefined;
}

type Skipped =
  | {
      /** The arguments, with env -S strings replaced by their words. */
      readonly words: readonly Word[];
      /** Where the operands or the command start in `words`. */
      readonly index: number;
      /** The short option letters written, in order. */
      readonly flags: string;
      /** Every option read, long names in full. */
      readonly given: readonly Given[];
      /** The value of the option that takes a script (`su -c`). */
      readonly script: Word | undefined;
      /** The options ended with `--`. */
      readonly terminated: boolean;
    }
  | { readonly unknown: ShellWord };

/**
 * env -S strings read within one command, at most: each is read again from the start of what it
 * left, so a bound keeps `env -S '-S -S …'` linear.
 */
const MAX_SPLITS = 32;

/**
 * Reads the options as the program's getopt does, up to the first operand. Whatever getopt
 * would refuse (an unknown or ambiguous long option, a value given to one that takes none) is
 * `unknown`: the line fails closed rather than guessing.
 */
function skipOptions(original: readonly Word[], options: Options): Skipped {
  let words = original;
  let flags = '';
  const given: Given[] = [];
  let script: Word | undefined;
  let splits = 0;
  let terminated = false;
  let i = 1;
  while (i < words.length) {
    const word = words[i]!;
    const text = word.text;
    if (options.assignments && isAssignment(word)) {
      i++;
      continue;
    }
    // An expansion here may be an option or the command itself: nothing after it is known.
    if (word.dynamic) return { unknown: word };
    if (text === '--') {
      terminated = true;
      i++;
      break;
    }
    if (options.numericOption && /^-[-+]?[0-9]/.test(text)) {
      i++;
      continue;
    }
    let option: string;
    let value: Word | undefined;
    let argument: Argument;
    let next = false;
    if (text.startsWith('--')) {
      const equals = text.indexOf('=');
      const name = longOption(text.slice(2, equals === -1 ? undefined : equals), options.long);
      if (name === undefined) return { unknown: word };
      option = name;
      argument = options.long.get(name)!;
      if (equals !== -1) {
        if (argument === 'none') return { unknown: word };
        value = attached(word, text.slice(equals + 1));
      } else if (argument === 'required') {
        next = true;
        value = words[i + 1];
      }
    } else if (text === '-' && options.assignments) {
      i++;
      continue;
    } else if (text.startsWith('-') && text.length > 1) {
      option = '';
      argument = 'none';
      for (let j = 1; j < text.length; j++) {
        const letter = text[j]!;
        flags += letter;
        option = letter;
        if (options.values.includes(letter)) argument = 'required';
        else if (options.optionalValues?.includes(letter)) argument = 'optional';
        else if (options.flags.includes(letter)) {
          given.push({ option: letter, value: undefined });
          continue;
        } else {
          // getopt refuses it; a program of another system may take a value with it instead, so
          // that the next word is not the command: either way the command is not known.
          return { unknown: word };
        }
        // The rest of the cluster is the value; a required one may be the next word instead.
        if (j < text.length - 1) value = attached(word, text.slice(j + 1));
        else if (argument === 'required') {
          next = true;
          value = words[i + 1];
        }
        break;
      }
      if (argument === 'none') {
        i++;
        continue;
      }
    } else if (options.permute) {
      i++;
      continue;
    } else {
      break;
    }
    // An unquoted `$X` as the value splits into words when it expands (`nice -n $X` with X set
    // to `5 rm -rf /` runs rm): what follows is only known at run time. Quoted, it cannot split,
    // but what it holds is unknown all the same, and such values are rare enough to refuse.
    if (next && value?.dynamic === true) return { unknown: value };
    given.push({ option, value: value?.text });
    const after = i + (next ? 2 : 1);
    const isScript =
      options.script !== undefined &&
      (option === options.script.short || options.script.long.includes(option));
    if (isScript && value !== undefined && options.script?.split) {
      // env -S: the string's words replace the option and are read again, options included.
      const split = value.dynamic || value.glob ? undefined : splitEnvString(value.text);
      if (split === undefined || ++splits > MAX_SPLITS) return { unknown: value };
      words = [
        words[0]!,
        ...split.map((part) => ({ ...value, ...part, glob: false, assignment: false })),
        ...words.slice(after),
      ];
      i = 1;
      continue;
    }
    if (isScript) script = value;
    i = after;
  }
  // env reads assignments after `--` too (`env -- A=1 rm`).
  if (options.assignments) while (i < words.length && isAssignment(words[i]!)) i++;
  return { words, index: Math.min(i, words.length), flags, given, script, terminated };
}

/**
 * The long option `written` (without `--`) names: an exact name, or the only one it is a prefix
 * of, as getopt_long reads it. `undefined` for an unknown or ambiguous one, which the program
 * refuses.
 */
function longOption(written: string, table: ReadonlyMap<string, Argument>): string | undefined {
  if (table.has(written)) return written;
  let found: string | undefined;
  for (const name of table.keys()) {
    if (!name.startsWith(written)) continue;
    if (found !== undefined) return undefined;
    found = name;
  }
  return found;
}

/**
 * A word env or sudo takes as `NAME=value`: any word holding `=` that is not an option, quoted
 * or not (`env 'A=1'`, `env A-B=1`), not only what the shell reads as an assignment.
 */
function isAssignment(word: Word): boolean {
  // To env, `A=$X` is an argument like any other: the shell splits `$X` (set to `1 rm -rf /`, it
  // runs rm). Only a word known as written is surely one assignment.
  if (word.dynamic) return false;
  return word.assignment || (!word.text.startsWith('-') && word.text.includes('='));
}

/** A value written in the same word as its option (`-uroot`, `--user=root`). */
function attached(word: Word, text: string): Word {
  return { ...word, text };
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
function xargsReplaceString(given: readonly Given[]): string | undefined {
  let replace: string | undefined;
  for (const { option, value } of given) {
    if (option === 'I') replace = value ?? replace;
    else if (option === 'i' || option === 'replace') replace = value ?? '{}';
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
