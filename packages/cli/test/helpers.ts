/** Runs the built `kvlar` binary as a child process against real temporary files. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
export const REPO_POLICIES = fileURLToPath(new URL('../../../policies/', import.meta.url));

if (!existsSync(BIN)) {
  throw new Error(`${BIN} is missing: build first (npx -y pnpm@10 build, or the root test script)`);
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function childEnv(options: { env?: Record<string, string> }): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (options.env?.NO_COLOR === undefined) delete env.NO_COLOR;
  if (options.env?.FORCE_COLOR === undefined) delete env.FORCE_COLOR;
  delete env.KVLAR_DEBUG;
  return env;
}

/** `kvlar ...args` in `cwd`, with colour-related variables cleared so output is plain text. */
export function kvlar(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<RunResult> {
  const env = childEnv(options);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `kvlar` that keeps running (`audit tail --follow`): read its output as it comes, then stop it. */
export interface RunningKvlar {
  /** Resolves with all stdout so far once `done(stdout)` holds; rejects after `timeoutMs`. */
  waitFor(done: (stdout: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Sends `signal` and resolves with the result once it has exited (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

export function spawnKvlar(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): RunningKvlar {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: childEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    waitFor(done, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done(stdout)) return;
          finish();
          resolve(stdout);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out; stdout so far:\n${stdout}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(kill);
      return { code, stdout, stderr };
    },
  };
}

const created: string[] = [];
afterAll(async () => {
  // A server orphaned by a killed proxy may still be writing its record file as it exits.
  await Promise.all(
    created.map((dir) =>
      rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
    ),
  );
});

/** A fresh temporary directory holding `files` (name → text or bytes); removed after the file's tests. */
export async function tempDir(files: Record<string, string | Uint8Array> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvlar-cli-'));
  created.push(dir);
  await writeFiles(dir, files);
  return dir;
}

export async function writeFiles(
  dir: string,
  files: Record<string, string | Uint8Array>,
): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

/** Non-empty lines of some output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** A small policy used across the tests: one rule of each effect. */
export const POLICY = `name: my-policy
description: Test policy
version: "1.0"
rules:
  - id: allow-read
    description: Reads are fine
    match_on:
      resources: ["read_*"]
    effect: { type: allow }
  - id: deny-shell
    description: No shell
    match_on:
      resources: [bash]
    effect: { type: deny, reason: shell is not allowed }
  - id: approve-write
    match_on:
      resources: [write_file]
      parameters: { path: "^/etc/" }
    effect: { type: require_approval, reason: writes under /etc need a human }
`;
