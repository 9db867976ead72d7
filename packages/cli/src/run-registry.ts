/**
 * Where running `kvlar proxy` processes announce their admin endpoint, so `kvlar approvals`,
 * `kvlar approve` and `kvlar deny` find them: one file per process in `$KVLAR_HOME/run/`
 * (default `~/.kvlar/run/`), readable by its owner only, since it holds the bearer token that
 * guards approvals. A proxy removes its file when it stops; a file whose process is gone is
 * ignored (and cleaned up) by readers.
 */
import { chmod, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RunningProxy {
  readonly pid: number;
  /** The admin endpoint, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly token: string;
  /** The server it fronts (its --server-name, else its command's name). */
  readonly server: string;
  /** RFC 3339. */
  readonly started: string;
}

export function runDirectory(env: Readonly<Record<string, string | undefined>>): string {
  const home =
    env.KVLAR_HOME !== undefined && env.KVLAR_HOME !== ''
      ? env.KVLAR_HOME
      : join(homedir(), '.kvlar');
  return join(home, 'run');
}

/** Announces this process; returns a function that withdraws the announcement. */
export async function announceProxy(
  env: Readonly<Record<string, string | undefined>>,
  proxy: RunningProxy,
): Promise<{ readonly file: string; remove(): Promise<void> }> {
  const directory = runDirectory(env);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700).catch(() => {});
  const file = join(directory, `proxy-${proxy.pid}.json`);
  await writeFile(file, `${JSON.stringify(proxy, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600).catch(() => {});
  return { file, remove: () => unlink(file).catch(() => {}) };
}

/** The proxies running now, as they announced themselves. */
export async function runningProxies(
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunningProxy[]> {
  const directory = runDirectory(env);
  const names = await readdir(directory).catch(() => [] as string[]);
  const found: RunningProxy[] = [];
  for (const name of names.filter((entry) => /^proxy-\d+\.json$/.test(entry)).sort()) {
    const file = join(directory, name);
    const value = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as unknown,
      () => undefined,
    );
    if (!isRunningProxy(value)) continue;
    if (!isAlive(value.pid)) {
      await unlink(file).catch(() => {});
      continue;
    }
    found.push(value);
  }
  return found;
}

function isRunningProxy(value: unknown): value is RunningProxy {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.pid === 'number' &&
    typeof record.url === 'string' &&
    typeof record.token === 'string' &&
    typeof record.server === 'string' &&
    typeof record.started === 'string'
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
