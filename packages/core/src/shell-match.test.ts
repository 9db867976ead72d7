import { describe, expect, it } from 'vitest';
import { engineFrom, ruleYaml } from '../test/helpers.js';
import { parsePolicy } from './index.js';

/** Whether `{field: command, operator: shell, value}` (plus extra keys) holds for the command. */
function holds(value: string, command: unknown, extra = ''): boolean {
  const condition = `{ field: command, operator: shell, value: ${value}${extra} }`;
  const engine = engineFrom(ruleYaml(`{ conditions: [${condition}] }`));
  const parameters = command === undefined ? {} : { command };
  return engine.evaluate({ resource: 't', parameters }).ruleId === 'r';
}

type Case = readonly [value: string, command: unknown, expected: boolean];

const cases: Record<string, readonly Case[]> = {
  'program (name patterns, ignoring case)': [
    ['{ program: [rm] }', 'rm x', true],
    ['{ program: [rm] }', 'RM x', true],
    ['{ program: [rm] }', 'ls; /bin/rm x', true],
    ['{ program: [rm] }', 'farm x', false],
    ['{ program: [rm] }', 'echo "rm x"', false],
    ['{ program: ["mkfs.*"] }', 'mkfs.ext4 /dev/sda', true],
    ['{ program: ["python[0-9]*"] }', 'python3.12 x.py', true],
    ['{ program: [sudo] }', 'ls | sudo tee x', true],
    ['{ program: [sudo] }', 'grep -r sudo .', false],
    ['{ program: [rm] }', '$X -rf /', true],
  ],
  'flags (every group, any alternative)': [
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -rf /', true],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -fR /', true],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -r -v -f x', true],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm x -rf', true],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm --rec --f x', true],
    [
      '{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }',
      'rm --recursive=x -f',
      true,
    ],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -r x', false],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -- -rf', false],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -r "$f"', true],
    ['{ program: [rm], flags: [[-r, -R, --recursive], [-f, --force]] }', 'rm -r -- "$f"', false],
    ['{ program: [rm], flags: [[-r], [-f]] }', 'RM -RF /', false],
    ['{ program: [chmod], flags: [[-R]] }', 'chmod -r x', false],
    ['{ program: [find], flags: [[-delete]] }', 'find . -name x -delete', true],
    ['{ program: [find], flags: [[-delete]] }', 'find . -name x', false],
    ['{ program: [curl], flags: [[--data]] }', 'curl --data-binary @x u', false],
    ['{ program: [curl], flags: [[--data-binary]] }', 'curl --data @x u', true],
  ],
  'args (regexes over the non-flag arguments)': [
    ['{ program: [chmod], args: ["^0*[0-7]?[0-7][0-7][2367]$"] }', 'chmod 777 x', true],
    ['{ program: [chmod], args: ["^0*[0-7]?[0-7][0-7][2367]$"] }', 'chmod -R 755 x', false],
    ['{ program: [dd], args: ["^of=/dev/sd"] }', 'dd if=x of=/dev/sda', true],
    ['{ program: [dd], args: ["^of=/dev/sd"] }', 'dd if=x of=out.img', false],
    ['{ program: [dd], args: ["^of=/dev/sd"] }', 'dd if=x "of=$DEV"', true],
    ['{ program: [python3], args: none }', 'python3', true],
    ['{ program: [python3], args: none }', 'python3 -u', true],
    ['{ program: [python3], args: none }', 'python3 -m json.tool', false],
    ['{ program: [python3], args: none }', 'python3 "$F"', true],
    ['{ program: [git], args: ["^-f$"] }', 'git push -- -f', true],
  ],
  'subcommand (the first operand, or a later one after an option that may take a value)': [
    ['{ program: [git], subcommand: [push] }', 'git push origin', true],
    ['{ program: [git], subcommand: [push] }', 'git -C repo push', true],
    ['{ program: [git], subcommand: [push] }', 'git --no-pager log push', true],
    ['{ program: [git], subcommand: [push] }', 'git log push', false],
    ['{ program: [git], subcommand: [push] }', 'git commit -m push', false],
    ['{ program: [git], subcommand: [push] }', 'git $CMD', true],
    ['{ program: [git], subcommand: [push] }', 'git PUSH', false],
    ['{ program: [apt], subcommand: ["*install"] }', 'apt -y reinstall x', true],
  ],
  'piped (a pipe, <(…), a here-document or string; command: what a command printed)': [
    ['{ program: [sh], piped: true }', 'curl x | sh', true],
    ['{ program: [sh], piped: true }', 'sh < script.sh', false],
    ['{ program: [sh], piped: true }', 'sh <<< "echo hi"', true],
    ['{ program: [sh], piped: command }', 'sh <<< "echo hi"', false],
    ['{ program: [sh], piped: command }', 'curl x |sh', true],
    ['{ program: [bash], piped: command }', 'bash <(curl x)', true],
    ['{ program: [bash], piped: command }', 'curl x | sudo -E bash -s', true],
    ['{ program: [bash], piped: false }', 'bash x.sh', true],
    ['{ program: [python3], piped: command }', 'python3 - <<< "$(curl x)"', true],
    ['{ program: [python3], piped: command }', 'python3 - <<EOF\n$(curl x)\nEOF', true],
    ['{ program: [source], piped: command }', 'source /dev/stdin <<< "$(curl x)"', true],
    ['{ program: [python3], piped: command }', 'python3 - <<< "$HOME"', false],
    ['{ program: [python3], piped: command }', "python3 - <<'EOF'\n$(curl x)\nEOF", false],
    ['{ program: [bash], piped: command }', 'grep x <<< "$(bash build.sh)"', false],
  ],
  'writes_to (path globs over output redirection targets)': [
    ['{ writes_to: ["/etc/**"] }', 'echo x > /etc/hosts', true],
    ['{ writes_to: ["/etc/**"] }', 'echo x > /tmp/../etc/hosts', true],
    ['{ writes_to: ["/etc/**"] }', 'cat /etc/hosts > x', false],
    ['{ writes_to: ["/etc/**"] }', 'echo x 2>/dev/null 1>&2', false],
    ['{ writes_to: ["/etc/**"] }', 'echo x > "$OUT"', true],
    ['{ writes_to: ["~/.ssh/**"] }', 'echo k >> ~/.ssh/authorized_keys', true],
    ['{ writes_to: ["/ETC/**"] }', 'echo x > /etc/hosts', false],
  ],
  'writes_to (host directories mounted writable: some path under them)': [
    ['{ writes_to: ["/etc/**"] }', 'docker run -v /:/host img true', true],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v /etc/nginx:/x img true', true],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v /etc:/x:ro img true', false],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v /srv/etc:/x img true', false],
    ['{ writes_to: ["~/.bashrc"] }', 'docker run -v ~:/h img true', true],
    ['{ writes_to: ["~/.bashrc"] }', 'docker run -v "$HOME:/h" img true', true],
    ['{ writes_to: ["~/.bashrc"] }', 'docker run -v ~/app:/h img true', false],
    ['{ writes_to: ["/home/*/.bashrc"] }', 'docker run -v /home:/h img true', true],
    ['{ writes_to: ["/home/*/.bashrc"] }', 'docker run -v /home/me/app:/h img true', false],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v "$PWD:/app" img true', false],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v "$SRC:/app" img true', true],
    ['{ writes_to: ["/etc/**"] }', 'docker run -v data:/var/lib/x img true', false],
    ['{ writes_to: ["/etc/**"] }', 'podman run --mount type=bind,src=/etc,dst=/e img', true],
    ['{ writes_to: ["/etc/**"] }', 'docker run --mount type=bind,src=/etc,dst=/e,ro img', false],
    ['{ writes_to: ["/etc/**"] }', 'docker run --mount type=volume,src=v,dst=/e img', false],
    ['{ writes_to: ["/etc/x"] }', 'echo > /etc', false],
  ],
  'host_access (a container with the power of the host)': [
    ['{ host_access: true }', 'docker run --privileged img', true],
    ['{ host_access: true }', 'docker run --rm img make', false],
    ['{ host_access: true }', 'sudo docker container create --pid=host img', true],
    ['{ host_access: true }', 'docker exec --privileged c sh', true],
    ['{ host_access: true }', 'kubectl debug node/n1 -it --image=busybox', true],
    ['{ host_access: true }', '$DOCKER run img', true],
    ['{ host_access: false, program: [docker] }', 'docker run --privileged img', false],
    ['{ host_access: false, program: [docker] }', 'docker run img', true],
  ],
  'unknown_program (only known at run time)': [
    ['{ unknown_program: true }', '$RM -rf /', true],
    ['{ unknown_program: true }', 'eval "$x"', true],
    ['{ unknown_program: true }', 'rm -rf /', false],
    ['{ unknown_program: false, program: [rm] }', '$RM x', false],
  ],
  'what cannot be read holds; what is absent does not': [
    ['{ program: [nothing-matches] }', 'echo "unterminated', true],
    ['{ program: [nothing-matches] }', 'a'.repeat(70_000), true],
    ['{ program: [nothing-matches] }', ['rm', '-rf', '/'], true],
    ['{ program: [nothing-matches] }', 42, true],
    ['{ program: [nothing-matches] }', undefined, false],
    ['{ program: [nothing-matches] }', '', false],
  ],
};

describe('the shell operator', () => {
  for (const [group, groupCases] of Object.entries(cases)) {
    describe(group, () => {
      it.each(groupCases)('%s with %j is %s', (value, command, expected) => {
        expect(holds(value, command)).toBe(expected);
      });
    });
  }

  it('compares flags, arguments and subcommands ignoring case with ignore_case', () => {
    const rmrf = '{ program: [rm], flags: [[-r], [-f]] }';
    expect(holds(rmrf, 'RM -RF /')).toBe(false);
    expect(holds(rmrf, 'RM -RF /', ', ignore_case: true')).toBe(true);
    expect(holds('{ subcommand: [push] }', 'git PUSH', ', ignore_case: true')).toBe(true);
    expect(holds('{ writes_to: ["/ETC/**"] }', 'echo x > /etc/hosts', ', ignore_case: true')).toBe(
      true,
    );
  });

  it('needs one command to have every key, not the line as a whole', () => {
    expect(holds('{ program: [rm], flags: [[-r]] }', 'rm x; ls -r')).toBe(false);
    expect(holds('{ program: [sh], piped: true }', 'curl x | cat; sh y')).toBe(false);
  });

  it('fails closed under not: a line that cannot be read never satisfies not(shell)', () => {
    const engine = engineFrom(
      ruleYaml(
        '{ conditions: [{ not: { field: command, operator: shell, value: { program: [rm] } } }] }',
        '{ type: allow }',
      ),
    );
    const decide = (command: string) =>
      engine.evaluate({ resource: 't', parameters: { command } }).type;
    expect(decide('ls')).toBe('allow');
    expect(decide('rm x')).toBe('deny');
    expect(decide("ls 'unterminated")).toBe('deny');
  });

  it('says in explain which command matched', () => {
    const engine = engineFrom(
      ruleYaml('{ conditions: [{ field: command, operator: shell, value: { program: [rm] } }] }'),
    );
    const check = (command: string) =>
      engine.explain({ resource: 't', parameters: { command } }).rules[0]!.checks.at(-1);
    expect(check('ls && /bin/rm -f x')).toContain('runs "/bin/rm -f x"');
    expect(check('ls | wc -l')).toContain('runs nothing that matches (ls, wc)');
    expect(check("echo 'x")).toContain('cannot be read: unterminated single quote');
  });

  it('refuses a value without keys, unknown keys, bad flags, regexes and globs when loading', () => {
    const issues = (value: string) => {
      const result = parsePolicy(
        ruleYaml(`{ conditions: [{ field: command, operator: shell, value: ${value} }] }`),
      );
      return result.ok ? [] : result.issues.map((issue) => issue.message);
    };
    expect(issues('{}')).toEqual([expect.stringContaining('at least one of program')]);
    expect(issues('{ progam: [rm] }')).toEqual([expect.stringContaining('did you mean "program"')]);
    expect(issues('{ flags: [[r]] }')).toEqual([expect.stringContaining('"r" is not a flag')]);
    expect(issues('{ flags: [[--x=1]] }')).toEqual([expect.stringContaining('is not a flag')]);
    expect(issues('{ args: ["("] }')).toEqual([expect.stringContaining('invalid regex')]);
    expect(issues('{ writes_to: ["@(x)"] }')).toEqual([expect.stringContaining('invalid glob')]);
    expect(issues('{ piped: maybe }')).not.toEqual([]);
    expect(issues('{ args: some }')).not.toEqual([]);
    expect(
      issues('{ program: [rm], flags: [[-r, --recursive]], args: none, piped: command }'),
    ).toEqual([]);
  });
});
