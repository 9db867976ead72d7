/**
 * The file a running proxy announces itself in holds the bearer token that approves held calls:
 * another user of the machine must not be able to read it. Cited by docs/security.md.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { announceProxy, runDirectory } from '../src/run-registry.js';
import { tempDir } from './helpers.js';

describe.runIf(process.platform !== 'win32')('the run registry on a shared machine', () => {
  it('announces a proxy in a file only its owner can read, since it holds the approvals token', async () => {
    const home = join(await tempDir(), 'kvlar-home');
    const env = { KVLAR_HOME: home };
    const announced = await announceProxy(env, {
      pid: process.pid,
      url: 'http://127.0.0.1:1',
      token: 'a-token-of-sixteen-or-more',
      server: 'test',
      started: new Date(0).toISOString(),
    });
    expect((await stat(runDirectory(env))).mode & 0o777).toBe(0o700);
    expect((await stat(announced.file)).mode & 0o777).toBe(0o600);
    await announced.remove();
  });
});
