import { describe, expect, it } from 'vitest';
import { type ArenaFacts, ONE_ARENA_MARKER, wantsOneArena } from './malloc-arena.js';

const proxyOnGlibc: ArenaFacts = {
  args: ['proxy', '--stdio', '--policy', 'p.yaml', '--', 'server'],
  env: { PATH: '/usr/bin' },
  platform: 'linux',
  canExecve: true,
  glibc: () => true,
};

describe('wantsOneArena', () => {
  it('starts kvlar proxy again on Linux with glibc, where Node can replace the process', () => {
    expect(wantsOneArena(proxyOnGlibc)).toBe(true);
    expect(
      wantsOneArena({ ...proxyOnGlibc, env: { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' } }),
    ).toBe(true);
  });

  it('leaves every other command as it is', () => {
    for (const args of [['test', 'p.yaml'], ['wrap'], [], ['--help'], ['audit', 'tail']]) {
      expect(wantsOneArena({ ...proxyOnGlibc, args })).toBe(false);
    }
  });

  it('leaves the process as it is where the variable means nothing or it cannot be replaced', () => {
    expect(wantsOneArena({ ...proxyOnGlibc, glibc: () => false })).toBe(false);
    expect(wantsOneArena({ ...proxyOnGlibc, canExecve: false })).toBe(false);
    expect(wantsOneArena({ ...proxyOnGlibc, platform: 'darwin' })).toBe(false);
  });

  it("never overrides the user's own setting of the arenas", () => {
    for (const value of ['8', '1', '']) {
      expect(wantsOneArena({ ...proxyOnGlibc, env: { MALLOC_ARENA_MAX: value } })).toBe(false);
    }
    const tunables = { GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0:glibc.malloc.arena_max=4' };
    expect(wantsOneArena({ ...proxyOnGlibc, env: tunables })).toBe(false);
  });

  it('reads which C library runs only when the rest holds', () => {
    const glibc = () => {
      throw new Error('asked');
    };
    expect(wantsOneArena({ ...proxyOnGlibc, args: ['test'], glibc })).toBe(false);
    expect(() => wantsOneArena({ ...proxyOnGlibc, glibc })).toThrow('asked');
  });

  it('does not start again a process that was started again', () => {
    expect(wantsOneArena({ ...proxyOnGlibc, env: { [ONE_ARENA_MARKER]: '1' } })).toBe(false);
  });
});
