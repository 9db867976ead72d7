/**
 * The file a running proxy announces itself in holds the bearer token that approves held calls:
 * another user of the machine must not be able to read it. Cited by docs/security.md.
 */
import { chmod, chown, lstat, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { announceProxy, runDirectory, runningProxies } from '../src/run-registry.js';
import { tempDir } from './helpers.js';

const TOKEN = 'a-token-of-sixteen-or-more';
const proxy = {
  pid: process.pid,
  url: 'http://127.0.0.1:1',
  token: TOKEN,
  server: 'test',
  started: new Date(0).toISOString(),
};

/** A `KVLAR_HOME` whose `run/` exists already, as someone else may have prepared it. */
async function preparedHome(mode: number): Promise<{ env: { KVLAR_HOME: string }; run: string }> {
  const home = join(await tempDir(), 'kvlar-home');
  const env = { KVLAR_HOME: home };
  const run = runDirectory(env);
  await mkdir(run, { recursive: true });
  await chmod(run, mode);
  return { env, run };
}

describe.runIf(process.platform !== 'win32')('the run registry on a shared machine', () => {
  it('announces a proxy in a file only its owner can read, since it holds the approvals token', async () => {
    const home = join(await tempDir(), 'kvlar-home');
    const env = { KVLAR_HOME: home };
    const announced = await announceProxy(env, proxy);
    expect((await stat(runDirectory(env))).mode & 0o777).toBe(0o700);
    expect((await stat(announced.file)).mode & 0o777).toBe(0o600);
    expect(await runningProxies(env)).toEqual([proxy]);
    await announced.remove();
  });

  it('writes no token into a run directory other users can write to, nor into their file', async () => {
    const { env, run } = await preparedHome(0o777);
    // The attack: a world-writable file waiting under the name the proxy will use.
    const planted = join(run, `proxy-${process.pid}.json`);
    await writeFile(planted, '');
    await chmod(planted, 0o666);
    await expect(announceProxy(env, proxy)).rejects.toThrow(
      `${run} is writable by other users (mode 0777, not 0700)`,
    );
    expect(await readFile(planted, 'utf8')).toBe('');
  });

  it('reads no announcement from a run directory other users can write to', async () => {
    const { env, run } = await preparedHome(0o777);
    await writeFile(join(run, `proxy-${process.pid}.json`), JSON.stringify(proxy));
    await expect(runningProxies(env)).rejects.toThrow(`${run} is writable by other users`);
  });

  it.runIf(process.getuid?.() === 0)(
    'refuses a run directory that belongs to another user, even one closed to others',
    async () => {
      const { env, run } = await preparedHome(0o700);
      await chown(run, 4242, 4242);
      await expect(announceProxy(env, proxy)).rejects.toThrow(
        `${run} belongs to uid 4242, not to you (uid 0)`,
      );
      await expect(runningProxies(env)).rejects.toThrow('belongs to uid 4242');
    },
  );

  it('replaces a link in its place with a file of its own, never writing through it', async () => {
    const { env, run } = await preparedHome(0o700);
    const elsewhere = join(run, '..', 'elsewhere.txt');
    await writeFile(elsewhere, 'not yours\n', { mode: 0o644 });
    const file = join(run, `proxy-${process.pid}.json`);
    await symlink(elsewhere, file);
    const announced = await announceProxy(env, proxy);
    expect(await readFile(elsewhere, 'utf8')).toBe('not yours\n');
    expect((await stat(elsewhere)).mode & 0o777).toBe(0o644);
    const written = await lstat(announced.file);
    expect(written.isFile()).toBe(true);
    expect(written.mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(announced.file, 'utf8'))).toEqual(proxy);
    await announced.remove();
  });

  it('closes an older run directory of its own to readers', async () => {
    const { env, run } = await preparedHome(0o755);
    const announced = await announceProxy(env, proxy);
    expect((await stat(run)).mode & 0o777).toBe(0o700);
    await announced.remove();
  });
});
