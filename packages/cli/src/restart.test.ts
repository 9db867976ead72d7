import { describe, expect, it } from 'vitest';
import { RESTART_MARKER, type RestartFacts, restartPlan } from './restart.js';

const proxyOnGlibc: RestartFacts = {
  args: ['proxy', '--stdio', '--policy', 'p.yaml', '--', 'server'],
  env: { PATH: '/usr/bin' },
  platform: 'linux',
  canExecve: true,
  glibc: () => true,
  youngCapAtRunTime: true,
  takesSemiSpaceOption: true,
  nodeOptions: '',
};
const ONE_ARENA = { env: { MALLOC_ARENA_MAX: '1' }, nodeOptions: [] };
const CAP_YOUNG = ['--max-semi-space-size=1'];
/** Node 26: V8 14, whose young generation cannot be capped at run time. */
const v8Fourteen: RestartFacts = { ...proxyOnGlibc, youngCapAtRunTime: false };

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
    expect(restartPlan({ ...v8Fourteen, env: { [RESTART_MARKER]: '' } })).toBeUndefined();
  });

  it('caps the young generation at start where V8 no longer takes the cap at run time', () => {
    expect(restartPlan(v8Fourteen)).toEqual({ ...ONE_ARENA, nodeOptions: CAP_YOUNG });
    // Off glibc, on another Unix, or with the user's arenas: for the young generation alone.
    for (const facts of [
      { ...v8Fourteen, glibc: () => false },
      { ...v8Fourteen, platform: 'darwin' as const },
      { ...v8Fourteen, env: { MALLOC_ARENA_MAX: '4' } },
    ]) {
      expect(restartPlan(facts)).toEqual({ env: {}, nodeOptions: CAP_YOUNG });
    }
  });

  it("never overrides the user's own semi-space size, however spelled", () => {
    for (const nodeOptions of [
      '--max-semi-space-size=16',
      '--expose-gc --max_semi_space_size=4',
      '--inspect  --max-semi-space-size 8',
    ]) {
      expect(restartPlan({ ...v8Fourteen, nodeOptions })).toEqual(ONE_ARENA);
    }
  });

  it('leaves the young generation to a Node that does not take the option', () => {
    expect(restartPlan({ ...v8Fourteen, takesSemiSpaceOption: false })).toEqual(ONE_ARENA);
    const nothingElse = { ...v8Fourteen, takesSemiSpaceOption: false, glibc: () => false };
    expect(restartPlan(nothingElse)).toBeUndefined();
  });
});
