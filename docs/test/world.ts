/**
 * The world a document's examples run in: a temporary directory that stands for `/`, with the
 * reader's home at `/home/me`, the working directory `/home/me/project`, the built CLI installed
 * as `/usr/local/bin/kvlar` (a link to packages/cli/dist/bin.js, as `npm install -g` makes it) and
 * the workspace packages in `/node_modules`, so that `@kvlar/*` imports resolve. Commands get a
 * clean environment: nothing of the user's home, config or colour settings leaks in.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(REPO, 'packages/cli/dist/bin.js');

/** What snippets may import, as a reader who installed them would. */
const PACKAGES: Readonly<Record<string, string>> = {
  '@kvlar/core': 'packages/core',
  '@kvlar/audit': 'packages/audit',
  '@kvlar/proxy': 'packages/proxy',
  '@kvlar/cli': 'packages/cli',
  '@modelcontextprotocol/sdk': 'packages/proxy/node_modules/@modelcontextprotocol/sdk',
  '@types/node': 'node_modules/@types/node',
  // Installed, so that `npx -y @modelcontextprotocol/server-filesystem` needs no network.
  '@modelcontextprotocol/server-filesystem':
    'packages/cli/node_modules/@modelcontextprotocol/server-filesystem',
};

/** The bins of PACKAGES, as an install links them into node_modules/.bin. */
const BINS: Readonly<Record<string, string>> = {
  'mcp-server-filesystem': '@modelcontextprotocol/server-filesystem/dist/index.js',
};

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr, interleaved as they were written (one pipe for both). */
  readonly output: string;
}

export interface World {
  /** The real directory that stands for `/`. */
  readonly root: string;
  readonly cwd: string;
  /** A path as the doc writes it (absolute from the world's `/`, or relative to the cwd). */
  real(path: string): string;
  /** Replaces the real root in `text` by nothing: `/tmp/kvlar-doctest-x/home/me` → `/home/me`. */
  unreal(text: string): string;
  /**
   * The reverse, for the home directory only: `/home/me` in a command, script or file the doc
   * shows is the world's home, so a config that names `/home/me/.kvlar/policy.yaml` finds it.
   */
  realify(text: string): string;
  /** Writes `content` as it is (see `realify`). */
  writeFile(path: string, content: string): void;
  /** Runs a program (`bash`, `node`, `python3`) with the world's environment, in the cwd. */
  run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult>;
  dispose(): void;
}

export function linkPackages(nodeModules: string): void {
  for (const [name, path] of Object.entries(PACKAGES)) {
    mkdirSync(dirname(join(nodeModules, name)), { recursive: true });
    symlinkSync(realpathSync(join(REPO, path)), join(nodeModules, name), 'dir');
  }
  mkdirSync(join(nodeModules, '.bin'));
  for (const [name, target] of Object.entries(BINS)) {
    symlinkSync(join('..', target), join(nodeModules, '.bin', name));
  }
}

export function createWorld(): World {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'kvlar-doctest-')));
  const home = join(root, 'home/me');
  const cwd = join(home, 'project');
  const bin = join(root, 'usr/local/bin');
  for (const dir of [cwd, bin, join(root, 'tmp')]) mkdirSync(dir, { recursive: true });
  // The bin an npm install links is executable; tsup writes it without the bit.
  chmodSync(BIN, 0o755);
  symlinkSync(BIN, join(bin, 'kvlar'));
  linkPackages(join(root, 'node_modules'));

  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    USER: 'me',
    LOGNAME: 'me',
    TMPDIR: join(root, 'tmp'),
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    TERM: 'dumb',
    PYTHONPATH: join(REPO, 'sdks/python/src'),
    PYTHONDONTWRITEBYTECODE: '1',
    // npm and pnpm ask the registry whether they are out of date, and print it.
    npm_config_update_notifier: 'false',
    // Global and user installs land in the world, never on the machine running the tests.
    npm_config_prefix: join(root, 'usr/local'),
    PIP_USER: '1',
    PYTHONUSERBASE: join(home, '.local'),
  };
  const real = (path: string): string => (isAbsolute(path) ? join(root, path) : join(cwd, path));

  return {
    root,
    cwd,
    real,
    unreal: (text) => text.split(root).join(''),
    realify: (text) => text.replace(/(?<![\w.-])\/home\/me(?![\w.-])/g, home),
    writeFile(path, content) {
      const target = real(path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    },
    run(command, args, timeoutMs) {
      return new Promise((resolve, reject) => {
        // Both streams into one pipe keeps the order in which a command wrote them.
        const child = spawn('bash', ['-c', 'exec 2>&1; exec "$@"', 'doctest', command, ...args], {
          cwd,
          env,
          stdio: ['ignore', 'pipe', 'inherit'],
          detached: true,
        });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          output += chunk;
        });
        const timer = setTimeout(() => {
          output += `\n[doctest: killed after ${timeoutMs} ms]\n`;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, timeoutMs);
        child.on('error', reject);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal, output });
        });
      });
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
