/**
 * Commands that run other commands: `sudo rm` runs rm, `sh -c 'rm …'` runs a script, `find -exec
 * rm {} ;` runs rm per file. Each wrapper's options are skipped (including those that take a
 * value, `sudo -u user`), so the wrapped command is found; the wrapper stays a command too.
 */
import { splitEnvString } from './env-split.js';
import type { ShellWord, Word, WrittenPath } from './shell.js';
import {
  type ContainerReach,
  containerExecReach,
  containerRunReach,
  kubectlDebugReach,
} from './shell-containers.js';

/** What unwrapping asks of the reader. */
export interface WrapperHost {
  /** Reads a script given to the command (`sh -c '…'`, `eval …`), one level deeper. */
  parseNested(script: string, expandInSingleQuotes: boolean): void;
  /** Records a command that could be anything (`sh -c "$X"`). */
  emitUnknown(word: ShellWord, writes: readonly WrittenPath[]): void;
}

/** The wrapper's own record, which unwrapping may annotate. */
export interface WrapperRecord {
  /** A shell with no `-c`: it reads its script from standard input. */
  stdinScript: boolean;
  /**
   * Where it writes: its redirections, the files its options name (`time -o FILE`) and the host
   * directories it mounts writable into a container.
   */
  writesTo: readonly WrittenPath[];
  /** It starts a container with the host's power (`docker run --privileged`). */
  hostAccess: boolean;
}

/** How an option takes a value, as getopt's `has_arg`. */
type Argument = 'none' | 'required' | 'optional';

/** An option (short letter, or long name in full) and, if given, the values it applies to. */
interface ValueCheck {
  readonly option: string;
  readonly when?: RegExp;
}

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
   * The program reads its options itself, each one word (`--name`, `--name=value`, `-q`), never
   * taking the next word as a value; the first word that is not an option is the command
   * (valgrind, firejail).
   */
  readonly oneWordOptions?: boolean;
  /**
   * Options (short letters, long names in full) whose value is a program, a library or code
   * the program runs or loads besides the command (`trickle -P LIB`, `valgrind --tool=../x`,
   * `strace -E LD_PRELOAD=…`): the command is then unknown.
   */
  readonly runsValue?: readonly ValueCheck[];
  /**
   * Options whose value, when only known at run time (`-o "$O"`), leaves the command unknown: it
   * is a script, a program, a configuration or a string standing for input (`ssh -o`, `xargs
   * -I`, `su -s`, `systemd-run -p`). Other values written so are one word, a value.
   */
  readonly runTimeValueUnknown?: readonly string[];
  /**
   * Options whose value a shell runs besides the command (fakeroot evaluates `-f PROG`; strace
   * runs an `-o` file written `|cmd` or `!cmd`): the value is read as a script, the part `when`
   * matches left out.
   */
  readonly scriptValues?: readonly ValueCheck[];
  /** The words after the options are a command only when one of these options is given (`schedtool -e`). */
  readonly commandWith?: readonly string[];
  /**
   * The program compares whole words with its own table (dashes included): `name=` takes the next
   * word, whatever it is; no clusters, no abbreviations. The first other word ends the options.
   */
  readonly wordOptions?: ReadonlyMap<string, Argument>;
  /** With `wordOptions`: a `name=` option may also be written `name=VALUE` in one word. */
  readonly wordsJoin?: boolean;
  /** With `wordOptions`: another word starting with `-` is refused (or read otherwise): unknown. */
  readonly wordsStrict?: boolean;
  /**
   * With `wordOptions`: a word that is itself an option is read as one, not taken as the value
   * of the option before it (dbus-launch: `--config-file --autolaunch ID rm` runs rm).
   */
  readonly wordValueNotAnOption?: boolean;
  /** A command `-` is this program reading its script from standard input (`uv run -`). */
  readonly dashCommand?: string;
  /** `--` is not the end of the options but an ordinary word (faketime takes it as the time). */
  readonly noEndMarker?: boolean;
  /**
   * Only the words after `--` are the command (`kubectl exec POD -- cmd`). Without `--`, the
   * command is `unknown` (kubectl exec: older releases ran the words after the pod, newer refuse)
   * or there is `none` that is known here (kubectl debug runs the image's own).
   */
  readonly commandAfterEndMarker?: 'unknown' | 'none';
  /** The first `--` among the command's words is dropped (`poetry run rm -- -rf /` runs `rm -rf /`). */
  readonly dropsEndMarker?: boolean;
  /** A command of one word is a script `sh -c` runs (`bundle exec 'a; b'`). */
  readonly oneWordScript?: boolean;
  /**
   * With one of these options and no command, a command not named here reads standard input:
   * the image's own (`docker run -i IMG`, `kubectl debug -i NODE`) or the user's shell
   * (`systemd-run --shell`).
   */
  readonly stdinCommandWith?: readonly string[];
  /** Without a command the program runs the user's `$SHELL`, which reads standard input. */
  readonly shellWithoutCommand?: boolean;
  /**
   * The first operand names a subcommand, read with its own table from there (`ip netns exec`,
   * `kubectl exec`); another subcommand runs no command.
   */
  readonly subcommands?: ReadonlyMap<string, Options>;
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
  /**
   * Options whose value is a file the program writes its output or log to (`time -o FILE`,
   * `strace -o FILE` but not `-o '|cmd'`): it counts as written to, as by a redirection.
   */
  readonly writesValue?: readonly ValueCheck[];
  /** The first operand is a file the program writes (`logsave FILE cmd`, `script FILE`). */
  readonly writesOperand?: boolean;
  /** With one of these options the words are a command after all, not a script (`watch -x`). */
  readonly commandInsteadWith?: readonly string[];
  /**
   * Options are parsed by Go's pflag (docker, podman, kubectl): a short option's value may follow
   * an `=` (`-v=/:/h` is `-v /:/h`, also in a cluster), and an option that takes no value may be
   * given one (`--privileged=false`, `-d=true`).
   */
  readonly goFlags?: boolean;
  /**
   * What a container this command starts gets of the host, from its options and the operands
   * read among them (shell-containers.ts).
   */
  readonly reach?: (given: readonly Given[], operands: readonly Word[]) => ContainerReach;
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

/**
 * Variables that make the command run code it was not given: a library loaded into it
 * (`LD_PRELOAD`, `LD_LIBRARY_PATH`, `LD_AUDIT`), a file bash or sh reads and expands first
 * (`BASH_ENV`, `ENV`), the functions bash imports (`BASH_FUNC_…`).
 */
const SHELL_ENVIRONMENT = /^(LD_|BASH_ENV=|ENV=|BASH_FUNC_)/;

/**
 * A unit property (`systemd-run -p NAME=VALUE`) that is not one of those known to only limit,
 * time or describe the command. The others can run or change what runs: `ExecStartPre=` and the
 * other Exec lines are commands of their own, `Environment=` and `EnvironmentFile=` can set
 * `LD_PRELOAD`, `BindPaths=` and `RootDirectory=` can put another program under the command's
 * name, `StandardOutput=file:` writes where it says. systemd reads the names as written.
 */
const UNIT_PROPERTY_NOT_KNOWN_SAFE =
  /^(?!(?:CPU\w*|Memory\w*|IO\w*|Tasks\w*|Limit[A-Z]+|Nice|OOMScoreAdjust|OOMPolicy|Allowed(?:CPUs|MemoryNodes)|Startup\w+|ManagedOOM\w*|Timeout\w*|RuntimeMaxSec|RuntimeRandomizedExtraSec|Kill\w*|SendSIG\w+|FinalKillSignal|Restart\w*|RemainAfterExit|Type|Description|Documentation|SyslogIdentifier|SyslogLevel\w*|UMask|NoNewPrivileges|Private(?:Tmp|Devices|Network|IPC|Mounts)|Protect\w+|ReadOnlyPaths|Delegate|CollectMode)=)/;

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
      runTimeValueUnknown: ['R', 'chroot', 'D', 'chdir'],
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
      // With no command, chroot runs `$SHELL -i`.
      shellWithoutCommand: true,
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
      runTimeValueUnknown: ['o', 'F', 'I', 'J'],
      after: 'script',
    },
  ],
  // sftp and scp run no command of their own but take ssh's options, read as for ssh (`-o
  // ProxyCommand=…`, `-J`, `-F`); `-S` names the program run in ssh's place, `-D` a server
  // program run here, and sftp's `-b FILE` is a batch whose `!…` lines are shell commands and
  // `-s /path` a command run on the host. Options are read among the operands too, erring
  // towards reading them.
  [
    'sftp',
    {
      flags: '46AaCfNpqrv',
      values: 'BbcDFiJloPRSsX',
      long: NO_LONG,
      permute: true,
      commandWith: [],
      runTimeValueUnknown: ['o', 'F', 'J', 's'],
      runsValue: [...spellings(['D', 'S', 'b']), { option: 's', when: /[^A-Za-z0-9._-]/ }],
    },
  ],
  [
    'scp',
    {
      flags: '346ABCOpqRrsTv',
      values: 'cDFiJloPSX',
      long: NO_LONG,
      permute: true,
      commandWith: [],
      runTimeValueUnknown: ['o', 'F', 'J'],
      runsValue: spellings(['D', 'S']),
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
      // `watch -x sh -c 'exec rm -rf /'` runs its words as they are, not joined.
      commandInsteadWith: ['x', 'exec'],
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
      writesValue: spellings(['o', 'output']),
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
      shellWithoutCommand: true,
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
      // `systemd-run --shell` with no command runs the user's shell.
      stdinCommandWith: ['S', 'shell'],
      runTimeValueUnknown: ['p', 'property', 'socket-property', 'E', 'setenv'],
      runsValue: [
        ...spellings(['E', 'setenv'], SHELL_ENVIRONMENT),
        ...spellings(['p', 'property', 'socket-property'], UNIT_PROPERTY_NOT_KNOWN_SAFE),
      ],
    },
  ],
  // Programs that run a command in some setting of their own. Each table was read from the
  // program (numactl 2.0, libcgroup 2.0, schedtool 1.3, fakeroot 1.31, util-linux 2.38, strace
  // 6.1, ltrace 0.7, valgrind 3.19, systemd 252, xvfb 21, firejail 0.9.72, libcap 2.66, trickle
  // 1.07, runit 2.1, daemonize 1.7, dbus 1.14, torsocks 2.4, libfaketime 0.9.10, expect 5.45),
  // with the options of later releases, and each reading checked by running it.
  [
    'numactl',
    {
      // -s, -H and the shared-memory options run nothing; reading a command there only over-reports.
      flags: 'aslbHtdDuTV',
      values: 'ipPcNCmSfoLMI',
      long: longOptions(
        'all interleave= preferred= preferred-many= weighted-interleave= cpubind= cpunodebind= ' +
          'physcpubind= membind= show localalloc balancing hardware shm= file= offset= length= ' +
          'strict shmmode= dump dump-nodes shmid= huge touch verify',
      ),
    },
  ],
  ['cgexec', { flags: 'sh', values: 'g', long: longOptions('sticky help') }],
  [
    'schedtool',
    // -e may come anywhere among the options; without it the words are processes.
    { flags: 'NFRBID012345ervh', values: 'Mapn', long: NO_LONG, commandWith: ['e'] },
  ],
  [
    'fakeroot',
    {
      flags: 'uvh',
      values: 'lfisb',
      long: longOptions('lib= faked= unknown-is-real fd-base= version help'),
      // The script hands these values to `eval`: `-f 'rm -rf /;faked'` runs rm.
      scriptValues: spellings(['l', 'f', 's', 'i', 'lib', 'faked']),
      shellWithoutCommand: true,
    },
  ],
  [
    'nsenter',
    {
      // -W takes the next word in 2.38 and only an attached value later: in neither, so unknown.
      flags: 'ahVFZec',
      values: 'tSG',
      optionalValues: 'muinpCUTrw',
      long: longOptions(
        'all help version target= mount[=] uts[=] ipc[=] net[=] pid[=] user[=] cgroup[=] time[=] ' +
          'setuid= setgid= root[=] wd[=] wdns[=] env join-cgroup no-fork preserve-credentials ' +
          'keep-caps user-parent follow-context',
      ),
      shellWithoutCommand: true,
    },
  ],
  [
    'strace',
    {
      flags: 'AcCdDfFhiknqrtTvVwxyYzZ',
      values: 'abeEIoOpPsSuUX',
      long: longOptions(
        'columns= output-append-mode detach-on= summary-only summary debug daemonize[=] ' +
          'daemonised[=] daemonized[=] env= follow-forks output-separately help ' +
          'instruction-pointer interruptible= kill-on-exit stack-traces[=] syscall-limit= ' +
          'syscall-number output= summary-syscall-overhead= attach= trace-path= ' +
          'relative-timestamps[=] string-limit= summary-sort-by= absolute-timestamps[=] ' +
          'timestamps[=] syscall-times[=] user= summary-columns= no-abbrev version ' +
          'summary-wall-clock strings-in-hex[=] const-print-style= pidns-translation ' +
          'successful-only failed-only failing-only seccomp-bpf tips[=] argv0= trace= trace-fds= ' +
          'abbrev= verbose= raw= signals= status= read= write= fault= inject= kvm= quiet[=] ' +
          'silent[=] silence[=] decode-fds[=] decode-pids= secontext[=]',
      ),
      // An output file written `|cmd` or `!cmd` is a command that /bin/sh runs.
      scriptValues: spellings(['o', 'output'], /^[|!]/),
      writesValue: spellings(['o', 'output'], /^[^|!]/),
      // -E LD_PRELOAD=… loads a library into the command; BASH_ENV and ENV run code in a shell.
      runsValue: spellings(['E', 'env'], SHELL_ENVIRONMENT),
    },
  ],
  [
    'ltrace',
    {
      flags: 'cfhiLrStTVbCg',
      values: 'aADeFlnopsuxXw',
      long: longOptions(
        'align= config= debug= demangle indent= help library= output= version no-signals where= ' +
          'no-plt',
      ),
      writesValue: spellings(['o', 'output']),
    },
  ],
  [
    'valgrind',
    {
      flags: '',
      values: '',
      long: NO_LONG,
      oneWordOptions: true,
      // --tool=NAME runs …/valgrind/NAME-PLATFORM: a `/` in it reaches any file.
      runsValue: [{ option: 'tool', when: /\// }],
      writesValue: spellings(['log-file', 'xml-file']),
    },
  ],
  [
    'systemd-inhibit',
    {
      flags: 'h',
      values: '',
      long: longOptions('help version what= who= why= mode= list no-pager no-legend'),
    },
  ],
  [
    'xvfb-run',
    {
      flags: 'alh',
      values: 'efnpsw',
      long: longOptions(
        'auto-servernum error-file= auth-file= help server-num= listen-tcp xauth-protocol= ' +
          'server-args= wait=',
      ),
      writesValue: spellings(['e', 'f', 'error-file', 'auth-file']),
    },
  ],
  [
    'firejail',
    {
      // Every option is one word, `--name` or `--name=value`; with none, the user's shell.
      flags: '',
      values: '',
      long: NO_LONG,
      oneWordOptions: true,
      runsValue: [{ option: 'env', when: SHELL_ENVIRONMENT }, { option: 'shell' }],
      shellWithoutCommand: true,
    },
  ],
  [
    'script',
    {
      // The operand is the file it writes; the command is -c's, run by $SHELL -c.
      flags: 'aefqVh',
      values: 'BcEIOomT',
      optionalValues: 't',
      long: longOptions(
        'append command= echo= return flush force log-in= log-out= log-io= log-timing= ' +
          `logging-format= output-limit= quiet timing[=] ${STANDARD}`,
      ),
      permute: true,
      script: { short: 'c', long: ['command'] },
      after: 'nothing',
      writesOperand: true,
      writesValue: spellings(['B', 'O', 'T', 'log-io', 'log-out', 'log-timing']),
      shellWithoutCommand: true,
    },
  ],
  ['eatmydata', { flags: '', values: '', long: NO_LONG }],
  // e2fsprogs' logsave, on every Debian and Ubuntu: logsave [-asv] LOGFILE COMMAND.
  ['logsave', { flags: 'asv', values: '', long: NO_LONG, operands: 1, writesOperand: true }],
  [
    'systemd-cat',
    {
      flags: 'h',
      values: 'tp',
      long: longOptions(
        'help version identifier= priority= stderr-priority= level-prefix= namespace=',
      ),
    },
  ],
  // Container entry points: gosu and su-exec USER COMMAND, tini, dumb-init.
  ['gosu', { flags: '', values: '', long: longOptions('help version'), operands: 1 }],
  ['su-exec', { flags: '', values: '', long: NO_LONG, operands: 1 }],
  ['tini', { flags: 'hsvwgl', values: 'pe', long: longOptions('version') }],
  [
    'dumb-init',
    { flags: 'hvVc', values: 'r', long: longOptions('single-child rewrite= verbose version help') },
  ],
  // moreutils' chronic, and daemontools' (also runit's) chpst personalities.
  ['chronic', { flags: 'ev', values: '', long: NO_LONG }],
  ['setuidgid', { flags: '', values: '', long: NO_LONG, operands: 1 }],
  ['envuidgid', { flags: '', values: '', long: NO_LONG, operands: 1 }],
  ['pgrphack', { flags: '', values: '', long: NO_LONG }],
  ['setlock', { flags: 'nNxX', values: '', long: NO_LONG, operands: 1 }],
  ['softlimit', { flags: '', values: 'acdflmoprst', long: NO_LONG }],
  // OpenSSH's agent runs the command with the agent's variables set; -k, -s, -c, -d and -D run none.
  ['ssh-agent', { flags: 'cDdks', values: 'aEOPt', long: NO_LONG }],
  [
    'trickle',
    // -P preloads any library into the command.
    { flags: 'hvVs', values: 'wnudtlLP', long: NO_LONG, runsValue: [{ option: 'P' }] },
  ],
  [
    'chpst',
    // -e DIR sets the environment from files, LD_PRELOAD among them.
    { flags: 'vP012V', values: 'uUbemdopfcrt/nlL', long: NO_LONG, runsValue: [{ option: 'e' }] },
  ],
  [
    'daemonize',
    {
      flags: 'av',
      values: 'cupoeEl',
      long: NO_LONG,
      runsValue: [{ option: 'E', when: SHELL_ENVIRONMENT }],
      writesValue: spellings(['o', 'e', 'p', 'l']),
    },
  ],
  [
    'dbus-launch',
    {
      flags: '',
      values: '',
      long: NO_LONG,
      wordOptions: longOptions(
        '-h -? --help --version --auto-syntax -c --csh-syntax -s --sh-syntax --binary-syntax ' +
          '--exit-with-session --exit-with-x11 --close-stderr --autolaunch= --config-file=',
      ),
      wordsJoin: true,
      wordValueNotAnOption: true,
    },
  ],
  [
    'dbus-run-session',
    {
      flags: '',
      values: '',
      long: NO_LONG,
      wordOptions: longOptions('-h -? --help --version --config-file= --dbus-daemon='),
      wordsJoin: true,
      // Runs its value as the message bus.
      runsValue: [{ option: '--dbus-daemon' }],
    },
  ],
  [
    'torsocks',
    {
      // `--shell` runs $SHELL; `torsocks sh`, `show`, `on` and `off` run nothing (over-reported).
      flags: '',
      values: '',
      long: NO_LONG,
      noEndMarker: true,
      wordOptions: longOptions(
        '-u= --user= -p= --pass= -a= --address= -P= --port= -i --isolate -6 --ipv6 -d --debug ' +
          '-q --quiet --shell',
      ),
    },
  ],
  [
    'faketime',
    {
      // The first other word, `--` included, is the time; without -f it runs `date`, or the
      // program of --date-prog.
      flags: '',
      values: '',
      long: NO_LONG,
      noEndMarker: true,
      wordOptions: longOptions(
        '-m -f --exclude-monotonic -p= --date-prog= -v --version -h -? --help',
      ),
      operands: 1,
      runsValue: [{ option: '--date-prog' }],
    },
  ],
  [
    'unbuffer',
    {
      // spawn's flags are one-dash names, taken by unique prefix: a prefix is unknown here.
      flags: '',
      values: '',
      long: NO_LONG,
      wordOptions: longOptions(
        '-p -console -ignore= -leaveopen= -noecho -nottycopy -nottyinit -open= -pty',
      ),
      wordsStrict: true,
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
      runTimeValueUnknown: ['I', 'i', 'replace', 'J'],
      long: longOptions(
        'null arg-file= delimiter= eof[=] replace[=] max-lines[=] max-args= open-tty max-procs= ' +
          `interactive process-slot-var= no-run-if-empty max-chars= show-limits verbose exit ${STANDARD}`,
      ),
    },
  ],
]);

// Tools whose subcommand runs a command: in a container or pod, or in a project's environment.
// Each was read from its source and run with a harmless command (kubectl 1.32 and docker 28
// against a fake server, uv's parser rebuilt with clap 4, poetry 1.3, bundler 2.3, pipenv 2022).
// Their parsers take no abbreviations where getopt does; reading an abbreviation that the tool
// refuses as an option only makes the line report more than runs.

/** kubectl's persistent options, accepted before and after the subcommand. */
const KUBECTL_GLOBAL =
  'as= as-group= as-uid= cache-dir= certificate-authority= client-certificate= client-key= ' +
  'cluster= context= kubeconfig= kuberc= log-flush-frequency= namespace= password= profile= ' +
  'profile-output= request-timeout= server= tls-server-name= token= user= username= v= vmodule= ' +
  'disable-compression insecure-skip-tls-verify match-server-version warnings-as-errors help';
const KUBECTL_COMMAND = {
  goFlags: true,
  flags: 'qith',
  values: 'cfnsv',
  permute: true,
  commandAfterEndMarker: 'unknown',
} as const;
const KUBECTL: Options = {
  goFlags: true,
  flags: 'h',
  values: 'nsv',
  long: longOptions(KUBECTL_GLOBAL),
  subcommands: new Map<string, Options>([
    // The command is what follows `--`; the words between the pod and `--` are ignored.
    [
      'exec',
      {
        ...KUBECTL_COMMAND,
        long: longOptions(
          `${KUBECTL_GLOBAL} container= filename= pod-running-timeout= quiet stdin tty`,
        ),
      },
    ],
    [
      'debug',
      {
        ...KUBECTL_COMMAND,
        long: longOptions(
          `${KUBECTL_GLOBAL} container= copy-to= custom= env= filename= image= image-pull-policy= ` +
            'set-image= target= arguments-only attach keep-annotations keep-init-containers ' +
            'keep-labels keep-liveness keep-readiness keep-startup quiet replace same-node ' +
            'share-processes stdin tty',
        ),
        // Without `--`, the image's own command runs (a shell, with -it): not known here.
        commandAfterEndMarker: 'none',
        stdinCommandWith: ['i', 'stdin'],
        reach: kubectlDebugReach,
      },
    ],
  ]),
};

/** docker exec: options, then the container, then the command as written (`--` included). */
const DOCKER_EXEC: Options = {
  goFlags: true,
  flags: 'dith',
  values: 'euw',
  long: longOptions(
    'detach-keys= env= env-file= user= workdir= detach interactive privileged tty help',
  ),
  operands: 1,
  runsValue: spellings(['e', 'env'], SHELL_ENVIRONMENT),
  reach: containerExecReach,
};
/** docker run and create: options, the image, then its command; --entrypoint names the program. */
const DOCKER_RUN: Options = {
  goFlags: true,
  flags: 'diPqt',
  values: 'acehlmpuvw',
  long: longOptions(
    'add-host= annotation= attach= blkio-weight= blkio-weight-device= cap-add= cap-drop= ' +
      'cgroup-parent= cgroupns= cidfile= cpu-count= cpu-percent= cpu-period= cpu-quota= ' +
      'cpu-rt-period= cpu-rt-runtime= cpu-shares= cpus= cpuset-cpus= cpuset-mems= detach-keys= ' +
      'device= device-cgroup-rule= device-read-bps= device-read-iops= device-write-bps= ' +
      'device-write-iops= dns= dns-opt= dns-option= dns-search= domainname= entrypoint= env= ' +
      'env-file= expose= gpus= group-add= health-cmd= health-interval= health-retries= ' +
      'health-start-interval= health-start-period= health-timeout= hostname= io-maxbandwidth= ' +
      'io-maxiops= ip= ip6= ipc= isolation= kernel-memory= label= label-file= link= ' +
      'link-local-ip= log-driver= log-opt= mac-address= memory= memory-reservation= memory-swap= ' +
      'memory-swappiness= mount= name= net= net-alias= network= network-alias= oom-score-adj= ' +
      'pid= pids-limit= platform= publish= pull= restart= runtime= security-opt= shm-size= ' +
      'stop-signal= stop-timeout= storage-opt= sysctl= tmpfs= ulimit= user= userns= uts= volume= ' +
      'volume-driver= volumes-from= workdir= detach disable-content-trust help init interactive ' +
      'no-healthcheck oom-kill-disable privileged publish-all quiet read-only rm sig-proxy tty ' +
      'use-api-socket',
  ),
  operands: 1,
  stdinCommandWith: ['i', 'interactive'],
  // The entrypoint takes the command as its arguments; the health check is a script run often.
  // BASH_ENV and ENV are read, and expanded, by a shell the command starts.
  runsValue: [{ option: 'entrypoint', when: /./ }, ...spellings(['e', 'env'], SHELL_ENVIRONMENT)],
  scriptValues: [{ option: 'health-cmd' }],
  reach: containerRunReach,
};
const DOCKER_COMMANDS = new Map<string, Options>([
  ['exec', DOCKER_EXEC],
  ['run', DOCKER_RUN],
  ['create', DOCKER_RUN],
]);
const DOCKER: Options = {
  goFlags: true,
  // Global options come only before the subcommand.
  flags: 'Dvh',
  values: 'cHl',
  long: longOptions(
    'config= context= host= log-level= tlscacert= tlscert= tlskey= debug tls tlsverify version help',
  ),
  subcommands: new Map([
    ...DOCKER_COMMANDS,
    [
      'container',
      {
        goFlags: true,
        flags: 'h',
        values: '',
        long: longOptions('help'),
        subcommands: DOCKER_COMMANDS,
      },
    ],
  ]),
};

/** uv's global options, accepted before and after `run`, up to the command. */
const UV_GLOBAL =
  'cache-dir= color= config-file= directory= project= allow-insecure-host= trusted-host= ' +
  'python-preference= python-fetch= preview-features= preview-feature= no-cache no-config quiet ' +
  'verbose managed-python no-managed-python allow-python-downloads no-python-downloads no-color ' +
  'native-tls no-native-tls system-certs no-system-certs offline no-offline preview no-preview ' +
  'isolated show-settings no-progress no-installer-metadata help version';
const UV_RESOLVER =
  'index= default-index= index-url= extra-index-url= find-links= upgrade-package= ' +
  'reinstall-package= refresh-package= no-build-package= no-binary-package= ' +
  'no-build-isolation-package= index-strategy= keyring-provider= resolution= prerelease= ' +
  'config-setting= config-settings-package= exclude-newer= exclude-newer-package= link-mode= ' +
  'fork-strategy= torch-backend= no-sources-package= python= python-platform= env-file= with= ' +
  'with-editable= with-requirements= upgrade reinstall refresh no-refresh compile-bytecode ' +
  'no-compile-bytecode no-build build no-binary binary no-build-isolation no-index no-sources ' +
  'no-env-file show-resolution';
/** `uv run` and `uv tool run` (uvx): everything from the first word that is not an option on. */
const UV_RUN: Options = {
  // `uv run -` is Python reading its script from standard input.
  dashCommand: 'python',
  flags: 'msUnqvh',
  values: 'wpifPC',
  long: longOptions(
    `${UV_GLOBAL} ${UV_RESOLVER} extra= no-extra= group= no-group= only-group= package= ` +
      'max-recursion-depth= all-extras no-all-extras dev no-dev no-default-groups all-groups ' +
      'module only-dev editable no-editable inexact no-exact exact active no-active no-sync ' +
      'locked frozen script gui-script all-packages no-project no-workspace from= constraints= ' +
      'overrides= build-constraints= lfs',
  ),
};
const UV: Options = {
  flags: 'nqvhV',
  values: '',
  long: longOptions(UV_GLOBAL),
  subcommands: new Map<string, Options>([
    ['run', UV_RUN],
    [
      'tool',
      {
        flags: 'nqvh',
        values: '',
        long: longOptions(UV_GLOBAL),
        // `uv tool uvx` is a hidden name of `uv tool run`.
        subcommands: new Map([
          ['run', UV_RUN],
          ['uvx', UV_RUN],
        ]),
      },
    ],
  ]),
};

const POETRY_GLOBAL =
  'project= directory= help quiet version verbose ansi no-ansi no-interaction no-plugins no-cache';
const PIPENV_RUN = 'python= pypi-mirror= three clear quiet verbose help';
const BUNDLE_EXEC: Options = {
  // A global option before `exec` makes bundler run `install` instead: unknown here.
  flags: 'Vh',
  values: 'r',
  long: longOptions(
    'gemfile= retry= keep-file-descriptors no-keep-file-descriptors no-color verbose help',
  ),
  oneWordScript: true,
};
const BUNDLE: Options = {
  // An option before the subcommand makes bundler run `install`: reading `exec`'s command there
  // only over-reports.
  flags: 'hvV',
  values: 'r',
  long: longOptions('help version verbose no-color retry='),
  subcommands: new Map(['exec', 'e', 'ex', 'exe'].map((name) => [name, BUNDLE_EXEC])),
};

WRAPPERS.set('kubectl', KUBECTL);
WRAPPERS.set('docker', DOCKER);
// podman 4.3's global options; its own exec and run options (--latest, --preserve-fds, …) are
// read with docker's table, so they are unknown.
WRAPPERS.set('podman', {
  ...DOCKER,
  flags: 'rDvh',
  values: 'cH',
  long: longOptions(
    'cgroup-manager= conmon= connection= events-backend= hooks-dir= identity= log-level= ' +
      'namespace= network-cmd-path= network-config-dir= root= runroot= runtime= runtime-flag= ' +
      'ssh= storage-driver= storage-opt= tmpdir= url= volumepath= host= config= context= ' +
      'cpu-profile= memory-profile= default-mounts-file= max-workers= registries-conf= ' +
      'network-backend= module= db-backend= imagestore= out= noout remote syslog trace debug ' +
      'version help transient-store',
  ),
});
WRAPPERS.set('uv', UV);
WRAPPERS.set('uvx', UV_RUN);
WRAPPERS.set('poetry', {
  flags: 'hqVvn',
  values: 'PC',
  long: longOptions(POETRY_GLOBAL),
  subcommands: new Map([
    [
      'run',
      { flags: 'hqVvn', values: 'PC', long: longOptions(POETRY_GLOBAL), dropsEndMarker: true },
    ],
  ]),
});
WRAPPERS.set('pipenv', {
  flags: 'qvh',
  values: '',
  long: longOptions(
    `${PIPENV_RUN} where venv py envs rm bare man support site-packages no-site-packages version`,
  ),
  subcommands: new Map([['run', { flags: 'qvh', values: '', long: longOptions(PIPENV_RUN) }]]),
});
WRAPPERS.set('bundle', BUNDLE);
WRAPPERS.set('bundler', BUNDLE);

/** setarch ARCH, or one of its links named after an architecture, which take no ARCH. */
const SETARCH: Options = {
  flags: 'hVv3BFILRSTXZ',
  values: '',
  long: longOptions(
    'help version verbose addr-no-randomize fdpic-funcptrs mmap-page-zero addr-compat-layout ' +
      'read-implies-exec 32bit short-inode whole-seconds sticky-timeouts 3gb 4gb uname-2.6 list ' +
      'show[=]',
  ),
  optionsAfterOperands: true,
  shellWithoutCommand: true,
};
WRAPPERS.set('setarch', SETARCH);
for (const name of [
  'linux32',
  'linux64',
  'i386',
  'i686',
  'x86_64',
  'uname26',
  'aarch64',
  'arm',
  'armv7l',
  'armv8l',
  'ppc',
  'ppc32',
  'ppc64',
  'ppc64le',
  's390',
  's390x',
  'sparc',
  'sparc32',
  'sparc64',
  'ia64',
  'parisc',
  'parisc32',
  'parisc64',
  'mips',
  'mips32',
  'mips64',
]) {
  WRAPPERS.set(name, { ...SETARCH, optionsAfterOperands: false });
}

function suOptions(more: string): Options {
  return {
    flags: 'flmpPhV',
    values: `cgGsw${more}`,
    long: longOptions(
      'command= session-command= fast group= supp-group= login preserve-environment pty shell= ' +
        `whitelist-environment= ${more === 'u' ? 'user= ' : ''}${STANDARD}`,
    ),
    permute: true,
    runTimeValueUnknown: ['s', 'shell'],
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
 * Homebrew installs GNU coreutils, findutils and time on macOS under a `g` prefix (`gtimeout`,
 * `gxargs`, `gfind`), beside the BSD programs of the same names: they are read as the GNU ones.
 */
const GNU_PREFIXED: ReadonlyMap<string, string> = new Map(
  ['timeout', 'env', 'nohup', 'nice', 'stdbuf', 'chroot', 'setsid', 'time', 'xargs', 'find'].map(
    (base) => [`g${base}`, base],
  ),
);

/**
 * The commands that `words` (a command whose lower-cased program is `program`) runs in turn, as
 * word lists. Scripts it runs are read through `host` instead.
 */
export function unwrapCommand(
  name: string,
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  const program = GNU_PREFIXED.get(name) ?? name;
  if (program === 'fish') {
    fishScripts(words, record, host);
    return [];
  }
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
    case 'busybox':
    case 'toybox': {
      const applet = words[1];
      return applet !== undefined && !applet.text.startsWith('-') ? [words.slice(1)] : [];
    }
    case 'capsh':
      return capshCommands(words, record, host);
    case 'proxychains':
    case 'proxychains3':
    case 'proxychains4':
      return proxychainsCommand(words, record, host);
    case 'cpulimit':
      return cpulimitCommand(words, record, host);
    case 'ip':
      return ipCommand(words, record, host);
  }
  const options = WRAPPERS.get(program);
  return options === undefined ? [] : unwrapWith(program, words, options, record, host);
}

/** What `words` runs, read with the table of `program` (`ip netns` for a subcommand). */
function unwrapWith(
  program: string,
  words: readonly Word[],
  options: Options,
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
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
  const end = words.at(-1)!.end;
  const unreadable = given.find(
    (entry) =>
      entry.dynamic === true &&
      (options.runTimeValueUnknown?.includes(entry.option) === true ||
        applies(options.scriptValues, entry) !== undefined),
  );
  const written: WrittenPath[] = given
    .filter(
      (entry) => entry.value !== undefined && applies(options.writesValue, entry) !== undefined,
    )
    .map((entry) => ({ text: entry.value!, dynamic: entry.dynamic === true }));
  const file = options.writesOperand ? (skipped.operands[0] ?? args[index]) : undefined;
  if (file !== undefined) written.push({ text: file.text, dynamic: file.dynamic });
  const reach = options.reach?.(given, skipped.operands);
  if (reach !== undefined) {
    written.push(...reach.writes);
    if (reach.hostAccess) record.hostAccess = true;
  }
  if (written.length > 0) record.writesTo = [...record.writesTo, ...written];
  const runs = unreadable ?? given.find((entry) => applies(options.runsValue, entry) !== undefined);
  if (runs !== undefined) {
    host.emitUnknown(synthetic(shown(runs), true, end), record.writesTo);
    return [];
  }
  for (const entry of given) {
    const check = applies(options.scriptValues, entry);
    if (check === undefined || entry.value === undefined) continue;
    const value = check.when === undefined ? entry.value : entry.value.replace(check.when, '');
    host.parseNested(value, false);
  }
  if (SSH_OPTIONS_ONLY.has(program) && !sshOptionsRunNothing(given, record, host, end)) return [];
  if (options.subcommands !== undefined) {
    const name = args[index];
    if (name === undefined) return [];
    if (name.dynamic) {
      host.emitUnknown(name, record.writesTo);
      return [];
    }
    const subcommand = options.subcommands.get(name.text);
    if (subcommand === undefined) return [];
    return unwrapWith(`${program} ${name.text}`, args.slice(index), subcommand, record, host);
  }
  // `schedtool -e cmd`: without -e the words are processes.
  if (
    options.commandWith !== undefined &&
    !given.some(({ option }) => options.commandWith!.includes(option))
  ) {
    return [];
  }
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
  const shell = options.shellWithoutCommand && !given.some(({ option }) => INFORMATION.has(option));
  // script's operand is the file it writes (`script -q -- /dev/null` runs the shell too).
  const noCommand = rest.length === 0 || options.after === 'nothing';
  if ((noCommand && shell) || stdinCommand(program, options, given, rest.length === 0)) {
    // The user's $SHELL, which reads its commands from standard input.
    host.emitUnknown(synthetic('$SHELL', true, words.at(-1)!.end), record.writesTo);
    return [];
  }
  if (options.after === 'nothing') {
    // `runuser -u user -- command …` runs the command itself.
    const end = args.findIndex((word) => word.text === '--');
    return program === 'runuser' && flags.includes('u') && end !== -1 ? [args.slice(end + 1)] : [];
  }
  const asCommand = given.some(({ option }) => options.commandInsteadWith?.includes(option));
  if (!asCommand && (options.after === 'script' || options.after === 'first-word-script')) {
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
    // BSD's -J STR puts the input's words in place of a word that is STR, the program's too.
    const insert = given.findLast(({ option }) => option === 'J')?.value;
    const filled = rest.map((word) =>
      (replace !== undefined && word.text.includes(replace)) || word.text === insert
        ? { ...word, dynamic: true }
        : word,
    );
    return [filled.length > 0 ? [...filled, input] : [synthetic('echo', false, end), input]];
  }
  if (options.commandAfterEndMarker !== undefined) {
    if (skipped.terminated) rest = args.slice(index);
    else {
      if (options.commandAfterEndMarker === 'unknown') {
        host.emitUnknown(synthetic(`${program} …`, true, end), record.writesTo);
      }
      return [];
    }
  }
  if (options.dropsEndMarker) {
    const marker = rest.findIndex((word) => word.text === '--' && !word.dynamic);
    if (marker !== -1) rest = [...rest.slice(0, marker), ...rest.slice(marker + 1)];
  }
  if (rest.length === 0) return [];
  if (options.dashCommand !== undefined && rest[0]!.text === '-' && !rest[0]!.dynamic) {
    rest = [{ ...rest[0]!, text: options.dashCommand }, ...rest.slice(1)];
  }
  if (options.oneWordScript && rest.length === 1 && !rest[0]!.dynamic) {
    host.parseNested(rest[0]!.text, false);
    return [];
  }
  // systemd-run: `$VAR` in a word is the service's variable (`-E F=-rf rm '${F}' /`).
  return [
    options.expandsWords
      ? rest.map((word) => (/[$%]/.test(word.text) ? { ...word, dynamic: true } : word))
      : rest,
  ];
}

/** Programs that take ssh's options and run no command of their own. */
const SSH_OPTIONS_ONLY: ReadonlySet<string> = new Set(['sftp', 'scp']);

/** ssh's configuration keywords whose value is a command it runs (RemoteCommand on the host). */
const SSH_COMMANDS = new Set([
  'proxycommand',
  'localcommand',
  'knownhostscommand',
  'remotecommand',
]);
/**
 * Jump hosts (`ssh -J`, `-o ProxyJump=`) that name only hosts: `[user@]host[:port]`, IPv6
 * addresses in brackets, `ssh://` URIs, a comma between hops. OpenSSH turns them into a
 * ProxyCommand that `$SHELL -c` runs, so anything else (`a$(rm …)`) could be a command.
 */
const SSH_JUMP_HOSTS = /^[A-Za-z0-9@._:,/[\]-]+$/;

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
  for (const entry of given) {
    const { option, value, dynamic } = entry;
    if (value === undefined) continue;
    const unknown = () => {
      host.emitUnknown(synthetic(shown(entry), true, end), record.writesTo);
      return false;
    };
    if (option === 'I' || (dynamic === true && (option === 'o' || option === 'F'))) {
      return unknown();
    }
    if (option === 'F' && value !== 'none' && value !== '/dev/null') return unknown();
    if (option === 'J' && !SSH_JUMP_HOSTS.test(value)) return unknown();
    if (option !== 'o') continue;
    // `Keyword=value`, `Keyword value` or `Keyword = value`, the keyword in any case, and with
    // double quotes anywhere in it (`"Proxy"Command`), which OpenSSH removes.
    const match = /^\s*((?:[^\s="]|"[^"]*")*)(?:\s*=\s*|\s+)?([\s\S]*)$/.exec(value);
    const keyword = (match?.[1] ?? '').replaceAll('"', '').toLowerCase();
    if (!/^[a-z0-9]+$/.test(keyword) || SSH_UNKNOWN.has(keyword)) return unknown();
    if (keyword === 'proxyjump' && !SSH_JUMP_HOSTS.test(match![2]!)) return unknown();
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
  // setarch's ARCH is its first word, when that is not an option.
  if (program === 'setarch') return given.length === 0 && first !== undefined ? 1 : 0;
  return options.operands ?? 0;
}

/** Options that print something and exit. */
const INFORMATION = new Set(['h', 'V', '?', 'help', 'version', 'list', 'show']);

/**
 * A command this line does not name reads standard input: ssh's remote login shell with no
 * command (`… | ssh host`), torsocks' `--shell` whatever follows, and `stdinCommandWith`.
 */
function stdinCommand(
  program: string,
  options: Options,
  given: readonly Given[],
  noCommand: boolean,
): boolean {
  const has = (...names: string[]) => given.some(({ option }) => names.includes(option));
  if (program === 'ssh') return noCommand && !has('N', 'W', 's', 'G', 'V', 'Q', 'O');
  // torsocks --shell runs a torified $SHELL, whatever follows.
  if (program === 'torsocks') return has('--shell');
  if (options.stdinCommandWith === undefined || !noCommand) return false;
  return has(...options.stdinCommandWith);
}

/** Whether `word` is one of the program's own whole-word options (`--autolaunch`, `--x=1`). */
function isWordOption(word: Word, options: Options): boolean {
  if (word.dynamic) return true;
  const equals = options.wordsJoin ? word.text.indexOf('=') : -1;
  return options.wordOptions!.has(equals === -1 ? word.text : word.text.slice(0, equals));
}

/** An option as written, for an unknown command: `-E LD_PRELOAD=x`, `--tool ../x`. */
function shown({ option, value }: Given): string {
  // Word options keep their dashes (`--dbus-daemon`); getopt's are a letter or a long name.
  const dashes = option.startsWith('-') ? '' : option.length === 1 ? '-' : '--';
  return `${dashes}${option} ${value ?? ''}`.trimEnd();
}

/** The same check for several spellings of one option (`-E` and `--env`). */
function spellings(options: readonly string[], when?: RegExp): ValueCheck[] {
  return options.map((option) => (when === undefined ? { option } : { option, when }));
}

/** The check among `checks` for the option `entry` read, if its value is one it applies to. */
function applies(checks: readonly ValueCheck[] | undefined, entry: Given): ValueCheck | undefined {
  return checks?.find(
    (check) =>
      check.option === entry.option &&
      (check.when === undefined ||
        entry.dynamic === true ||
        (entry.value !== undefined && check.when.test(entry.value))),
  );
}

/** An option as the program read it: a short letter or a long name in full, and its value. */
export interface Given {
  readonly option: string;
  readonly value: string | undefined;
  /** The value is only known at run time (`-n "$N"`). */
  readonly dynamic?: boolean;
}

/**
 * `--name=…` written with no expansion before the `=` and none that splits after it: the option
 * is known as written, only its value is not.
 */
function knownLongName(word: Word): boolean {
  if (word.splits || word.glob || !word.text.startsWith('--')) return false;
  const equals = word.text.indexOf('=');
  return equals !== -1 && !/[$`]/.test(word.text.slice(0, equals));
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
      /** With `permute`, the operands read among the options, in order. */
      readonly operands: readonly Word[];
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
  const operands: Word[] = [];
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
    // An expansion here may be an option or the command itself: nothing after it is known. Only
    // `--name="$X"` names its option as written; a quoted expansion stays one word.
    if (word.dynamic && !(options.long.size > 0 && knownLongName(word))) return { unknown: word };
    if (text === '--' && !options.noEndMarker) {
      terminated = true;
      i++;
      break;
    }
    if (options.wordOptions !== undefined) {
      const equals = options.wordsJoin ? text.indexOf('=') : -1;
      const name = equals === -1 ? text : text.slice(0, equals);
      const argument = options.wordOptions.get(name);
      if (argument === undefined || (equals !== -1 && argument === 'none')) {
        if (options.wordsStrict && text.startsWith('-') && text !== '-') return { unknown: word };
        break;
      }
      const value = equals !== -1 ? attached(word, text.slice(equals + 1)) : undefined;
      let next = argument === 'required' && equals === -1 ? words[i + 1] : undefined;
      if (options.wordValueNotAnOption && next !== undefined && isWordOption(next, options)) {
        next = undefined;
      }
      if (next?.dynamic === true) return { unknown: next };
      given.push({ option: name, value: (value ?? next)?.text });
      i += next === undefined ? 1 : 2;
      continue;
    }
    if (options.numericOption && /^-[-+]?[0-9]/.test(text)) {
      i++;
      continue;
    }
    if (options.oneWordOptions) {
      if (!text.startsWith('-') || text === '-') break;
      const equals = text.indexOf('=');
      const name = text.slice(text.startsWith('--') ? 2 : 1, equals === -1 ? undefined : equals);
      given.push({ option: name, value: equals === -1 ? undefined : text.slice(equals + 1) });
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
        if (argument === 'none' && !options.goFlags) return { unknown: word };
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
          if (options.goFlags && text[j + 1] === '=') {
            // pflag gives the flag the rest of the word as its value: `-d=false`.
            given.push({ option: letter, value: text.slice(j + 2) });
            break;
          }
          given.push({ option: letter, value: undefined });
          continue;
        } else {
          // getopt refuses it; a program of another system may take a value with it instead, so
          // that the next word is not the command: either way the command is not known.
          return { unknown: word };
        }
        // The rest of the cluster is the value; a required one may be the next word instead.
        // pflag drops an `=` before it (`-v=/:/h`).
        if (j < text.length - 1) {
          const rest = text.slice(j + 1);
          value = attached(word, options.goFlags && rest.startsWith('=') ? rest.slice(1) : rest);
        } else if (argument === 'required') {
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
      operands.push(word);
      i++;
      continue;
    } else {
      break;
    }
    // An unquoted `$X` as the value splits into words when it expands (`nice -n $X` with X set
    // to `5 rm -rf /` runs rm): what follows is only known at run time. Quoted, it is one word,
    // the value (`docker run -v "$PWD:/app"`), known only at run time.
    if (next && value !== undefined && (value.splits || value.glob)) return { unknown: value };
    given.push({ option, value: value?.text, dynamic: value?.dynamic === true });
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
  return {
    words,
    index: Math.min(i, words.length),
    flags,
    given,
    script,
    terminated,
    operands,
  };
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

/**
 * capsh reads whole words, `--name` or `--name=value`. After `--` (or `-+`) the rest are the
 * arguments of /bin/bash, or of the `--shell=` program; after `==` (or `=+`) they are capsh's
 * again. Without either it runs nothing.
 */
function capshCommands(
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  let shell: Word | undefined;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (word.dynamic) {
      host.emitUnknown(word, record.writesTo);
      return [];
    }
    if (word.text === '--' || word.text === '-+') {
      const program = shell ?? synthetic('bash', false, word.end);
      return [[program, ...words.slice(i + 1)]];
    }
    if (word.text === '==' || word.text === '=+') continue;
    if (word.text.startsWith('--shell='))
      shell = attached(word, word.text.slice('--shell='.length));
  }
  return [];
}

/**
 * proxychains4 looks at two words at most: one starting `-q` is quiet, one starting `-f` takes
 * the next word as its configuration (`-fx conf rm` runs rm). Any other word is the program.
 */
function proxychainsCommand(
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  let i = 1;
  for (let pass = 0; pass < 2 && i < words.length; pass++) {
    const word = words[i]!;
    if (word.dynamic) {
      host.emitUnknown(word, record.writesTo);
      return [];
    }
    // proxychains 3 runs `exec "$@"`: where /bin/sh is bash, `exec -- rm` runs rm.
    if (word.text === '--') return i + 1 < words.length ? [words.slice(i + 1)] : [];
    if (word.text[0] !== '-') break;
    if (word.text[1] === 'q') i += 1;
    else if (word.text[1] === 'f') i += 2;
    else break;
  }
  return i < words.length ? [words.slice(i)] : [];
}

/**
 * cpulimit permutes its options and then counts words to find the program, wrongly when an
 * option and its value share a word (`cpulimit -l50 -f true rm x` runs rm). Only the form where
 * each option is its own words and none follows the program is read; anything else is unknown.
 */
function cpulimitCommand(
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  const values = 'pePlcs';
  const flags = 'bfqkmrvzh';
  const long = CPULIMIT_LONG;
  const unknown = (word: Word) => {
    host.emitUnknown(word, record.writesTo);
    return [];
  };
  let i = 1;
  while (i < words.length) {
    const word = words[i]!;
    const text = word.text;
    if (word.dynamic) return unknown(word);
    if (text === '--') {
      i++;
      break;
    }
    if (/^-[A-Za-z]$/.test(text)) {
      if (values.includes(text[1]!)) i += 2;
      else if (flags.includes(text[1]!)) i += 1;
      else return unknown(word);
      continue;
    }
    if (text.startsWith('--') && long.has(text.slice(2))) {
      i += long.get(text.slice(2)) === 'required' ? 2 : 1;
      continue;
    }
    if (text.startsWith('-')) return unknown(word);
    // getopt would pull a later option forward and shift the count.
    const later = words.slice(i + 1).find((next) => next.dynamic || next.text.startsWith('-'));
    if (later !== undefined) return unknown(later);
    break;
  }
  return i < words.length ? [words.slice(i)] : [];
}

const CPULIMIT_LONG = longOptions(
  'pid= exe= path= limit= background foreground quiet verbose lazy help cpu= signal= monitor-forks',
);

/** ip's global options in the order ip.c tries them: the first one a word is a prefix of wins. */
const IP_OPTIONS = [
  'loops',
  'family',
  '4',
  '6',
  '0',
  'I',
  'D',
  'M',
  'B',
  'human',
  'human-readable',
  'iec',
  'stats',
  'statistics',
  'details',
  'resolve',
  'oneline',
  'timestamp',
  'tshort',
  'Version',
  'force',
  'batch',
  'brief',
  'json',
  'pretty',
  'rcvbuf',
  'color',
  'help',
  'netns',
  'Numeric',
  'all',
  'echo',
];
const IP_OPTIONS_WITH_VALUES = new Set(['loops', 'family', 'batch', 'rcvbuf', 'netns']);
/** ip's objects in the order of its table, up to vrf: `ip n` is neighbor, `ip net` netns. */
const IP_OBJECTS = [
  'address',
  'addrlabel',
  'maddress',
  'route',
  'rule',
  'neighbor',
  'neighbour',
  'ntable',
  'ntbl',
  'link',
  'l2tp',
  'fou',
  'ila',
  'macsec',
  'tunnel',
  'tunl',
  'tuntap',
  'tap',
  'token',
  'tcpmetrics',
  'tcp_metrics',
  'monitor',
  'xfrm',
  'mroute',
  'mrule',
  'netns',
  'netconf',
  'vrf',
];

/**
 * `ip [OPTIONS] netns exec NAME CMD…` and `ip vrf exec NAME CMD…` run CMD (`ip -all netns exec
 * CMD…` in every namespace), with ip's prefixes (`ip net e`). `-batch FILE` runs ip commands
 * from a file, `netns exec` among them: unknown.
 */
function ipCommand(
  words: readonly Word[],
  record: WrapperRecord,
  host: WrapperHost,
): (readonly Word[])[] {
  let all = false;
  let i = 1;
  for (; i < words.length; i++) {
    const word = words[i]!;
    if (word.dynamic) {
      host.emitUnknown(word, record.writesTo);
      return [];
    }
    let text = word.text;
    if (text === '--') {
      i++;
      break;
    }
    if (!text.startsWith('-')) break;
    if (text.startsWith('--')) text = text.slice(1);
    // `-c=never`, `-color=auto`: the value is attached.
    // ip compares the word, dash included, with each option in turn: a bare `-` is `-loops`.
    const name = text.slice(1).split('=')[0]!;
    const option = IP_OPTIONS.find((entry) => entry.startsWith(name));
    if (option === undefined) {
      host.emitUnknown(word, record.writesTo);
      return [];
    }
    if (option === 'batch') {
      host.emitUnknown(word, record.writesTo);
      return [];
    }
    if (option === 'all') all = true;
    if (IP_OPTIONS_WITH_VALUES.has(option)) i++;
  }
  const object = words[i];
  const subcommand = words[i + 1];
  if (object === undefined || subcommand === undefined) return [];
  if (object.dynamic || subcommand.dynamic) {
    host.emitUnknown(object.dynamic ? object : subcommand, record.writesTo);
    return [];
  }
  const kind = IP_OBJECTS.find((entry) => object.text !== '' && entry.startsWith(object.text));
  if (kind !== 'netns' && kind !== 'vrf') return [];
  if (subcommand.text === '' || !'exec'.startsWith(subcommand.text)) return [];
  const start = i + 2 + (kind === 'netns' && all ? 0 : 1);
  return start < words.length ? [words.slice(start)] : [];
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
      i += SHELL_LONG_VALUES.has(text) ? 2 : 1;
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

/**
 * Long options of the shells read here that take the next word: bash's `--rcfile` and
 * `--init-file`, zsh's `--emulate`, yash's `--profile` and `--rcfile`. Their other long options
 * take none (zsh's and yash's are the names of `set -o` options).
 */
const SHELL_LONG_VALUES: ReadonlySet<string> = new Set([
  '--rcfile',
  '--init-file',
  '--emulate',
  '--profile',
]);

/** fish 3's options (getopt_long `+hPilNnvc:C:p:d:f:D:o:`), read from its source and `fish -h`. */
const FISH: Options = {
  flags: 'hPilNnv',
  values: 'cCpdfDo',
  long: longOptions(
    'command= init-command= features= debug= debug-output= debug-stack-frames= profile= ' +
      'profile-startup= interactive login no-config no-execute print-rusage-self ' +
      'print-debug-categories private help version',
  ),
};

/**
 * fish runs the value of `-c`/`--command` and, before it, of `-C`/`--init-command`; with no
 * `-c` and no script file it reads standard input. An option it does not know is unknown here.
 */
function fishScripts(words: readonly Word[], record: WrapperRecord, host: WrapperHost): void {
  const skipped = skipOptions(words, FISH);
  if ('unknown' in skipped) {
    host.emitUnknown(skipped.unknown, record.writesTo);
    return;
  }
  const end = words.at(-1)!.end;
  let command = false;
  for (const entry of skipped.given) {
    const { option, value } = entry;
    if (option === 'c' || option === 'command') command = true;
    else if (option !== 'C' && option !== 'init-command') continue;
    if (entry.dynamic === true || value === undefined) {
      host.emitUnknown(synthetic(shown(entry), true, end), record.writesTo);
      return;
    }
    host.parseNested(value, false);
  }
  if (!command && skipped.index >= skipped.words.length) record.stdinScript = true;
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
    // A word holding `{}` is given the file's name: the program, or a script (`sh -c 'echo {}'`),
    // is then known only at run time. A lone `{}` argument is a path, which find starts with its
    // starting point, never with `-`.
    const terminator = words[end]?.text;
    commands.push(
      words
        .slice(start, end)
        .map((word, at, command) =>
          !word.dynamic &&
          word.text.includes('{}') &&
          (at === 0 ||
            (terminator !== '+' && (word.text !== '{}' || command[at - 1]?.text === '-c')))
            ? { ...word, dynamic: true }
            : word,
        ),
    );
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
    splits: dynamic,
    assignment: false,
    processInput: false,
    start: at,
    end: at,
  };
}
