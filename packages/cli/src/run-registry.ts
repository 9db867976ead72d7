/**
 * Where running `kvlar proxy` processes announce their admin endpoint, so `kvlar approvals`,
 * `kvlar approve` and `kvlar deny` find them: one file per process in `$KVLAR_HOME/run/`
 * (default `~/.kvlar/run/`), readable by its owner only, since it holds the bearer token that
 * guards approvals. A proxy removes its file when it stops; a file whose process is gone is
 * ignored (and cleaned up) by readers. A directory another user could write into (a shared
 * `KVLAR_HOME`) is neither written to nor read: they could read the token, or plant a proxy.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
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
  const refused = await unsafeDirectory(directory);
  if (refused !== undefined) {
    throw new Error(
      `${directory} ${refused}: it would hold the approvals token, so nothing was written there (make it yours, mode 0700, or set KVLAR_HOME elsewhere)`,
    );
  }
  // Ours and closed to writers: closed to readers too (an older directory may be 0755).
  await chmod(directory, 0o700).catch(() => {});
  const file = join(directory, `proxy-${proxy.pid}.json`);
  // Written to a new file of its own (never through a link, never into a file that was there),
  // then renamed into place: readers see a whole announcement or none.
  const temporary = join(directory, `.proxy-${proxy.pid}-${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await handle.writeFile(`${JSON.stringify(proxy, null, 2)}\n`);
  } finally {
    await handle.close();
  }
  await rename(temporary, file).catch(async (error: unknown) => {
    await unlink(temporary).catch(() => {});
    throw error;
  });
  return { file, remove: () => unlink(file).catch(() => {}) };
}

/**
 * Why the registry directory cannot be trusted with a token, or undefined when it can: it must be
 * a real directory (not a link), owned by this user, that no one else may write to.
 */
async function unsafeDirectory(directory: string): Promise<string | undefined> {
  const found = await lstat(directory);
  if (!found.isDirectory()) return 'is not a directory';
  const uid = process.getuid?.();
  // Windows has no uids or mode bits to check.
  if (uid === undefined) return undefined;
  if (found.uid !== uid) return `belongs to uid ${found.uid}, not to you (uid ${uid})`;
  if ((found.mode & 0o022) !== 0) {
    return `is writable by other users (mode ${(found.mode & 0o7777).toString(8).padStart(4, '0')}, not 0700)`;
  }
  return undefined;
}

/**
 * The proxies running now, as they announced themselves. Rejects when the directory is one
 * another user could write into.
 */
export async function runningProxies(
  env: Readonly<Record<string, string | undefined>>,
): Promise<RunningProxy[]> {
  const directory = runDirectory(env);
  const refused = await unsafeDirectory(directory).catch(() => undefined);
  if (refused !== undefined) {
    // What another user planted there would send answers to their endpoint, and show their calls.
    throw new Error(`${directory} ${refused}: its announcements are not read`);
  }
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
