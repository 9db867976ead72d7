import { describe, expect, it } from 'vitest';
import { RESTART_MARKER, type RestartFacts, restartPlan } from './restart.js';

const proxyOnGlibc: RestartFacts = {
  args: ['proxy', '--stdio', '--policy', 'p.yaml', '--', 'server'],
  env: { PATH: '/usr/bin' },
  platform: 'linux',
  canExecve: true,
  glibc: () => true,
};
const ONE_ARENA = { env: { MALLOC_ARENA_MAX: '1' } };

describe('restartPlan', () => {
  it('starts kvlar proxy again with one arena on Linux with glibc, where Node can', () => {
    expect(restartPlan(proxyOnGlibc)).toEqual(ONE_ARENA);
    const tunables = { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' };
    expect(restartPlan({ ...proxyOnGlibc, env: tunables })).toEqual(ONE_ARENA);
  });

  it('leaves every other command as it is', () => {
    for (const args of [['test', 'p.yaml'], ['wrap'], [], ['--help'], ['audit', 'tail']]) {
      expect(restartPlan({ ...proxyOnGlibc, args })).toBeUndefined();
    }
  });

  it('leaves the process as it is where the variable means nothing or it cannot be replaced', () => {
    expect(restartPlan({ ...proxyOnGlibc, glibc: () => false })).toBeUndefined();
    expect(restartPlan({ ...proxyOnGlibc, canExecve: false })).toBeUndefined();
    expect(restartPlan({ ...proxyOnGlibc, platform: 'darwin' })).toBeUndefined();
  });

  it("never overrides the user's own setting of the arenas", () => {
    for (const value of ['8', '1', '']) {
      expect(restartPlan({ ...proxyOnGlibc, env: { MALLOC_ARENA_MAX: value } })).toBeUndefined();
    }
    const tunables = { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0:glibc.malloc.arena_max=4' };
    expect(restartPlan({ ...proxyOnGlibc, env: tunables })).toBeUndefined();
  });

  it('reads which C library runs only when the rest holds', () => {
    const glibc = () => {
      throw new Error('asked');
    };
    expect(restartPlan({ ...proxyOnGlibc, args: ['test'], glibc })).toBeUndefined();
    expect(() => restartPlan({ ...proxyOnGlibc, glibc })).toThrow('asked');
  });

  it('does not start again a process that was started again', () => {
    expect(restartPlan({ ...proxyOnGlibc, env: { [RESTART_MARKER]: '' } })).toBeUndefined();
  });
});
