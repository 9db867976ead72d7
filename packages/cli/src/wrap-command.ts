/**
 * What `command` a wrapped entry gets: the kvlar the MCP client will start.
 *
 * MCP clients are often started from a desktop, not a shell, so they may not see the PATH a
 * terminal has: like the Rust kvlar (which wrote its own `current_exe()`), the entry gets an
 * absolute path when we know a good one. For a Node.js CLI the script itself is no command, but
 * the `kvlar` an installer put on PATH is, so that is used when it is this very kvlar. An npx or
 * `pnpm dlx` cache is temporary, and a `kvlar` on PATH that is another binary (the Rust one, say)
 * does not take our flags: then the entry says just `kvlar`, with a warning.
 * `KVLAR_WRAP_COMMAND` overrides all of it.
 */
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export interface KvlarCommand {
  readonly command: string;
  /** Why the command may not work where the client runs it. */
  readonly warning: string | undefined;
}

export function resolveKvlarCommand(options: {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
  /** The script this process runs (`process.argv[1]`). */
  readonly script: string | undefined;
}): KvlarCommand {
  const { env, platform, script } = options;
  const override = env.KVLAR_WRAP_COMMAND;
  if (override !== undefined && override !== '') return { command: override, warning: undefined };
  const onPath = findOnPath(env, platform);
  const self = script === undefined ? undefined : realPath(script);
  const hint = 'install it (npm install -g @kvlar/cli) or set KVLAR_WRAP_COMMAND';
  if (onPath === undefined) {
    return {
      command: 'kvlar',
      warning: `no kvlar on PATH: wrapped servers run 'kvlar', which the client must find; ${hint}`,
    };
  }
  // A Windows shim (kvlar.cmd) does not resolve to the script it starts: trust it.
  const same = platform === 'win32' || (self !== undefined && realPath(onPath) === self);
  if (!same) {
    return {
      command: 'kvlar',
      warning: `the kvlar on PATH (${onPath}) is not this one (${script}); wrapped servers run 'kvlar'; ${hint}`,
    };
  }
  if (self !== undefined && /[\\/](_npx|dlx)[\\/]/.test(self)) {
    return {
      command: 'kvlar',
      warning: `this kvlar runs from a temporary npx/dlx cache; wrapped servers run 'kvlar'; ${hint}`,
    };
  }
  return { command: onPath, warning: undefined };
}

/** `kvlar`, `kvlar.exe`, `kvlar-cli`, `/usr/local/bin/kvlar`, `C:\bin\kvlar.cmd`… */
export function isKvlarCommand(command: string, wrapCommand: string | undefined): boolean {
  if (wrapCommand !== undefined && command === wrapCommand) return true;
  const name = command.split(/[\\/]/).at(-1)!.toLowerCase();
  const stem = name.replace(/\.(exe|cmd|bat|ps1|js|mjs)$/, '');
  return stem === 'kvlar' || stem === 'kvlar-cli';
}

function findOnPath(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
): string | undefined {
  const path = env.PATH ?? env.Path ?? '';
  const names =
    platform === 'win32'
      ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD')
          .split(';')
          .filter((extension) => extension !== '')
          .map((extension) => `kvlar${extension.toLowerCase()}`)
      : ['kvlar'];
  for (const dir of path.split(platform === 'win32' ? ';' : delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate, platform)) return candidate;
    }
  }
  return undefined;
}

function isExecutableFile(path: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
