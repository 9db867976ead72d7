import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  createEngine,
  type Engine,
  formatIssue,
  type PolicyLoader,
  parsePolicy,
  resolvePolicy,
} from '@kvlar/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type PolicyLoad,
  type PolicyLoaded,
  type PolicyLoadFailed,
  type PolicyWatcher,
  watchPolicies,
} from './policy-watcher.js';

const DEBOUNCE_MS = 50;
/** Long enough for a missed event to have given a load by now. */
const QUIET_MS = 300;

/** A policy allowing `tools`, optionally extending other files. */
function policy(name: string, tools: readonly string[], extendsFiles: readonly string[] = []) {
  return [
    `name: ${name}`,
    'version: "1"',
    ...(extendsFiles.length > 0 ? [`extends: [${extendsFiles.join(', ')}]`] : []),
    'rules:',
    `  - id: ${name}-allow`,
    `    match_on: { resources: [${tools.join(', ')}] }`,
    '    effect: { type: allow }',
    '',
  ].join('\n');
}

/** What the CLI's load does: read the policy and what it extends, compile, name every file read. */
function loadFrom(root: string): () => PolicyLoad {
  return () => {
    const files = [root];
    const texts: string[] = [];
    const read = (file: string) => {
      try {
        const text = readFileSync(file, 'utf8');
        texts.push(text);
        return { ok: true as const, file, text };
      } catch (error) {
        return { ok: false as const, message: (error as Error).message };
      }
    };
    const text = read(root);
    if (!text.ok) return { ok: false, message: `${root}: cannot read: ${text.message}`, files };
    const parsed = parsePolicy(text.text, { file: root });
    if (!parsed.ok) return { ok: false, message: parsed.issues.map(formatIssue).join('\n'), files };
    const loader: PolicyLoader = {
      load(reference, from) {
        const file = resolve(dirname(from ?? root), reference);
        files.push(file);
        return read(file);
      },
    };
    const resolved = resolvePolicy(parsed.policy, loader);
    if (!resolved.ok) {
      return { ok: false, message: resolved.issues.map(formatIssue).join('\n'), files };
    }
    const hash = createHash('sha256').update(texts.join('\0')).digest('hex');
    return { ok: true, engine: createEngine([resolved.policy]), files, hash };
  };
}

const decide = (engine: Engine, tool: string) => engine.evaluate({ resource: tool }).type;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await sleep(10);
  }
}

interface Setup {
  readonly dir: string;
  readonly watcher: PolicyWatcher;
  readonly reloads: PolicyLoaded[];
  readonly errors: PolicyLoadFailed[];
  /** The engine the proxy would be using. */
  engine(): Engine;
  path(name: string): string;
  write(name: string, text: string): void;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Writes `files` in a temp dir, loads `policy.yaml` as the CLI would, and watches it. */
function setup(
  files: Record<string, string>,
  wrap: (load: () => PolicyLoad) => () => Promise<PolicyLoad> | PolicyLoad = (load) => load,
): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'kvlar-watch-'));
  const path = (name: string) => join(dir, name);
  const write = (name: string, text: string) => {
    mkdirSync(dirname(path(name)), { recursive: true });
    writeFileSync(path(name), text);
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  const load = loadFrom(path('policy.yaml'));
  const first = load();
  if (!first.ok) throw new Error(first.message);
  let engine = first.engine;
  const reloads: PolicyLoaded[] = [];
  const errors: PolicyLoadFailed[] = [];
  const watcher = watchPolicies({
    files: first.files,
    hash: first.hash,
    load: wrap(load),
    onReload: (loaded) => {
      engine = loaded.engine;
      reloads.push(loaded);
    },
    onError: (failed) => errors.push(failed),
    debounceMs: DEBOUNCE_MS,
  });
  cleanups.push(async () => {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, watcher, reloads, errors, engine: () => engine, path, write };
}

describe('watchPolicies', () => {
  it('reloads when a policy file is edited in place', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    expect(decide(w.engine(), 'write')).toBe('deny');
    w.write('policy.yaml', policy('p', ['read', 'write']));
    await until('a reload', () => w.reloads.length === 1);
    expect(decide(w.engine(), 'write')).toBe('allow');
    expect(w.watcher.reloads).toBe(1);
    expect(w.errors).toEqual([]);
  });

  it('reloads when an editor renames a temp file over the policy', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    w.write('.policy.yaml.swp', policy('p', ['read', 'write']));
    renameSync(w.path('.policy.yaml.swp'), w.path('policy.yaml'));
    await until('a reload', () => w.reloads.length === 1);
    expect(decide(w.engine(), 'write')).toBe('allow');
    // The old inode is gone; the directory watch still sees the next save.
    w.write('policy.yaml', policy('p', ['read']));
    await until('a second reload', () => w.reloads.length === 2);
    expect(decide(w.engine(), 'write')).toBe('deny');
  });

  it('loads once for a burst of writes, after the last one', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    for (const tool of ['a', 'b', 'c']) {
      w.write('policy.yaml', policy('p', [tool]));
      await sleep(DEBOUNCE_MS / 3);
    }
    await until('a reload', () => w.reloads.length === 1);
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(1);
    expect(decide(w.engine(), 'c')).toBe('allow');
    expect(decide(w.engine(), 'a')).toBe('deny');
  });

  it('never runs two loads at once, and loads once more for edits made during a load', async () => {
    let active = 0;
    let most = 0;
    const w = setup({ 'policy.yaml': policy('p', ['read']) }, (load) => async () => {
      active += 1;
      most = Math.max(most, active);
      const result = load();
      await sleep(QUIET_MS);
      active -= 1;
      return result;
    });
    w.write('policy.yaml', policy('p', ['a']));
    await until('the first load', () => w.watcher.loads === 1);
    w.write('policy.yaml', policy('p', ['b']));
    await sleep(DEBOUNCE_MS * 2);
    w.write('policy.yaml', policy('p', ['c']));
    await until('two reloads', () => w.reloads.length === 2, 3000);
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(2);
    expect(most).toBe(1);
    expect(decide(w.reloads[0]!.engine, 'a')).toBe('allow');
    expect(decide(w.engine(), 'c')).toBe('allow');
  });

  it('keeps the last good policy on an invalid edit, reports it, and reloads the fix', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    w.write('policy.yaml', 'name: p\nversion: "1"\nrules: [\n');
    await until('an error', () => w.errors.length === 1);
    expect(w.errors[0]?.message).toContain(`${w.path('policy.yaml')}:`);
    expect(w.reloads).toEqual([]);
    expect(decide(w.engine(), 'read')).toBe('allow');
    w.write('policy.yaml', policy('p', ['write']));
    await until('a reload', () => w.reloads.length === 1);
    expect(decide(w.engine(), 'write')).toBe('allow');
    expect(decide(w.engine(), 'read')).toBe('deny');
  });

  it('reports a reload back to the running policy after an error', async () => {
    const good = policy('p', ['read']);
    const w = setup({ 'policy.yaml': good });
    w.write('policy.yaml', 'rules: [\n');
    await until('an error', () => w.errors.length === 1);
    w.write('policy.yaml', good);
    await until('a reload', () => w.reloads.length === 1);
  });

  it('watches a file the policy starts to extend, and stops watching one it drops', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']), 'base.yaml': policy('base', ['a']) });
    w.write('base.yaml', policy('base', ['b']));
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(0);

    w.write('policy.yaml', policy('p', ['read'], ['base.yaml']));
    await until('a reload', () => w.reloads.length === 1);
    expect(w.reloads[0]?.files).toEqual([w.path('policy.yaml'), w.path('base.yaml')]);
    expect(decide(w.engine(), 'b')).toBe('allow');

    w.write('base.yaml', policy('base', ['c']));
    await until('a reload for the extended file', () => w.reloads.length === 2);
    expect(decide(w.engine(), 'c')).toBe('allow');
    expect(decide(w.engine(), 'b')).toBe('deny');

    w.write('policy.yaml', policy('p', ['read']));
    await until('a reload', () => w.reloads.length === 3);
    const loads = w.watcher.loads;
    w.write('base.yaml', policy('base', ['d']));
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(loads);
  });

  it('watches an extended file in another directory, and one that does not exist yet', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    mkdirSync(w.path('shared'));
    w.write('policy.yaml', policy('p', ['read'], ['shared/base.yaml']));
    await until('an error for the missing base', () => w.errors.length === 1);
    expect(w.errors[0]?.message).toContain('shared/base.yaml');
    w.write('shared/base.yaml', policy('base', ['b']));
    await until('a reload', () => w.reloads.length === 1);
    expect(decide(w.engine(), 'b')).toBe('allow');
  });

  it('reloads an extended file whose directory was deleted and made again', async () => {
    const w = setup({
      'policy.yaml': policy('p', ['read'], ['shared/base.yaml']),
      'shared/base.yaml': policy('base', ['a']),
    });
    rmSync(w.path('shared'), { recursive: true });
    await until('an error', () => w.errors.length === 1);
    expect(decide(w.engine(), 'a')).toBe('allow');
    w.write('shared/base.yaml', policy('base', ['b']));
    // The new directory is found by a retry (once a second), not by an event.
    await until('a reload', () => w.reloads.length === 1, 3000);
    expect(decide(w.engine(), 'b')).toBe('allow');
  });

  it('reports a deleted policy, keeps the last good one, and reloads it when it is back', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    rmSync(w.path('policy.yaml'));
    await until('an error', () => w.errors.length === 1);
    expect(w.errors[0]?.message).toContain('cannot read');
    expect(decide(w.engine(), 'read')).toBe('allow');
    w.write('policy.yaml', policy('p', ['write']));
    await until('a reload', () => w.reloads.length === 1);
    expect(decide(w.engine(), 'write')).toBe('allow');
  });

  it('ignores events that change nothing: other files, chmod, a save of the same text', async () => {
    const text = policy('p', ['read']);
    const w = setup({ 'policy.yaml': text });
    w.write('notes.txt', 'hello');
    chmodSync(w.path('policy.yaml'), 0o600);
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(0);
    // A new mtime is worth a load, but the same text is no reload.
    utimesSync(w.path('policy.yaml'), new Date(), new Date(Date.now() + 5000));
    await until('a load', () => w.watcher.loads === 1);
    await sleep(QUIET_MS);
    expect(w.reloads).toEqual([]);
    expect(w.errors).toEqual([]);
  });

  it('follows a symlink swapped the way Kubernetes updates a mounted ConfigMap', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    // Rebuild the tree as a ConfigMap mount: policy.yaml → ..data/policy.yaml, ..data → ..v1.
    await w.watcher.close();
    mkdirSync(w.path('..v1'));
    w.write('..v1/policy.yaml', policy('p', ['read']));
    symlinkSync('..v1', w.path('..data'));
    rmSync(w.path('policy.yaml'));
    symlinkSync('..data/policy.yaml', w.path('policy.yaml'));
    const reloads: PolicyLoaded[] = [];
    const watcher = watchPolicies({
      files: [w.path('policy.yaml')],
      load: loadFrom(w.path('policy.yaml')),
      onReload: (loaded) => reloads.push(loaded),
      onError: () => {},
      debounceMs: DEBOUNCE_MS,
    });
    cleanups.push(() => watcher.close());
    mkdirSync(w.path('..v2'));
    w.write('..v2/policy.yaml', policy('p', ['write']));
    symlinkSync('..v2', w.path('..data_tmp'));
    renameSync(w.path('..data_tmp'), w.path('..data'));
    await until('a reload', () => reloads.length === 1);
    expect(decide(reloads[0]!.engine, 'write')).toBe('allow');
  });

  it('stops loading once closed, and closes once', async () => {
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    w.write('policy.yaml', policy('p', ['a']));
    await w.watcher.close();
    await w.watcher.close();
    w.write('policy.yaml', policy('p', ['b']));
    await sleep(QUIET_MS);
    expect(w.watcher.loads).toBe(0);
    expect(w.reloads).toEqual([]);
  });

  it('reports a load that throws, and a handler that throws, and keeps watching', async () => {
    let fail = true;
    const errors: string[] = [];
    const w = setup({ 'policy.yaml': policy('p', ['read']) });
    await w.watcher.close();
    const watcher = watchPolicies({
      files: [w.path('policy.yaml')],
      load: () => {
        if (fail) throw new Error('disk on fire');
        return loadFrom(w.path('policy.yaml'))();
      },
      onReload: () => {
        throw new Error('swap failed');
      },
      onError: (failed) => errors.push(failed.message),
      debounceMs: DEBOUNCE_MS,
    });
    cleanups.push(() => watcher.close());
    w.write('policy.yaml', policy('p', ['a']));
    await until('an error', () => errors.length === 1);
    fail = false;
    w.write('policy.yaml', policy('p', ['b']));
    await until('a second error', () => errors.length === 2);
    expect(errors).toEqual([
      'cannot reload the policy: disk on fire',
      'the reloaded policy was not installed: swap failed',
    ]);
    expect(watcher.reloads).toBe(0);
  });
});
