/**
 * Hot reload: watches the policy files and hands each good reload to the caller, who swaps the
 * engine between messages. Each file's directory is watched, not the file: editors save by
 * renaming a temp file over the original, and a file can be deleted and created again. Bursts of
 * events give one load, loads never overlap, and a bad load keeps the last good policy in force.
 */
import { type FSWatcher, lstatSync, statSync, watch } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Engine } from '@kvlar/core';

/** A load that compiled: the engine to swap in, every file it read, and a hash of their texts. */
export interface PolicyLoaded {
  readonly ok: true;
  readonly engine: Engine;
  readonly files: readonly string[];
  /** Over every text that went into the engine: the same hash means the same policy. */
  readonly hash: string;
}

/** A load that did not: the message is ready to print (with file:line). */
export interface PolicyLoadFailed {
  readonly ok: false;
  readonly message: string;
  /** The files it read or tried to read: a missing one is watched so its return reloads. */
  readonly files: readonly string[];
}

/** What the caller's `load` returns. */
export type PolicyLoad = PolicyLoaded | PolicyLoadFailed;

/** Options of `watchPolicies`. */
export interface PolicyWatcherOptions {
  /** Absolute paths: each policy and everything it extends. Other entries (`builtin:…`) are skipped. */
  readonly files: readonly string[];
  /** Re-reads and compiles everything. A throw or a rejection counts as a failed load. */
  readonly load: () => Promise<PolicyLoad> | PolicyLoad;
  /** A new policy compiled: swap the engine here. A throw is reported through `onError`. */
  readonly onReload: (load: PolicyLoaded) => void;
  /** A load failed: the last good policy stays in force. A throw here is ignored. */
  readonly onError: (load: PolicyLoadFailed) => void;
  /** The hash of the policy already running: loading it again (`touch`) is not a reload. */
  readonly hash?: string;
  /** Quiet time after the last event before loading. Default 200 ms. */
  readonly debounceMs?: number;
}

/** A running watch. */
export interface PolicyWatcher {
  /** Stops watching; resolves once no load is running. Idempotent. */
  close(): Promise<void>;
  /** How many times `onReload` was called. */
  readonly reloads: number;
  /** How many times `load` was called. */
  readonly loads: number;
}

/** `PolicyWatcherOptions.debounceMs`'s default. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 200;

/** How often a directory that cannot be watched (deleted, not yet created) is tried again. */
const RETRY_MS = 1000;

interface Tracked {
  /** dev:ino:size:mtime, or why it cannot be read: an event that leaves it unchanged is no edit. */
  state: string;
  /** A symlink can change without an event naming it (Kubernetes swaps a `..data` link). */
  symlink: boolean;
}

interface Directory {
  watcher: FSWatcher | undefined;
  /** Which directory the watcher follows: a directory deleted and made again is a new one. */
  identity: string | undefined;
  /** Watched basename → absolute path. */
  readonly names: Map<string, string>;
}

/** Watches `files` and calls `load` after they change; see `PolicyWatcherOptions`. */
export function watchPolicies(options: PolicyWatcherOptions): PolicyWatcher {
  const debounceMs = options.debounceMs ?? DEFAULT_RELOAD_DEBOUNCE_MS;
  const files = new Map<string, Tracked>();
  const directories = new Map<string, Directory>();
  let current = { hash: options.hash, failed: false };
  let closed = false;
  let closing: Promise<void> | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let loads = 0;
  let reloads = 0;

  const schedule = (): void => {
    if (closed) return;
    clearTimeout(debounce);
    debounce = setTimeout(fire, debounceMs);
    debounce.unref();
  };

  const fire = (): void => {
    debounce = undefined;
    if (running !== undefined) {
      again = true;
      return;
    }
    running = run();
  };

  const run = async (): Promise<void> => {
    try {
      do {
        again = false;
        await loadOnce();
      } while (again && !closed);
    } finally {
      running = undefined;
    }
  };

  const loadOnce = async (): Promise<void> => {
    const startedAt = Date.now();
    loads += 1;
    let result: PolicyLoad;
    try {
      result = await options.load();
    } catch (error) {
      result = { ok: false, message: `cannot reload the policy: ${messageOf(error)}`, files: [] };
    }
    if (closed) return;
    // A failed load may name files the good one did not (a new, missing extends); keep both.
    track(result.ok ? result.files : [...files.keys(), ...result.files], startedAt);
    deliver(result);
  };

  const deliver = (result: PolicyLoad): void => {
    if (!result.ok) {
      current = { hash: current.hash, failed: true };
      report(result);
      return;
    }
    if (result.hash === current.hash && !current.failed) return;
    try {
      options.onReload(result);
    } catch (error) {
      current = { hash: current.hash, failed: true };
      report({
        ok: false,
        message: `the reloaded policy was not installed: ${messageOf(error)}`,
        files: result.files,
      });
      return;
    }
    current = { hash: result.hash, failed: false };
    reloads += 1;
  };

  const report = (result: PolicyLoadFailed): void => {
    try {
      options.onError(result);
    } catch {
      // The reporter's failure changes nothing: the last good policy is still in force.
    }
  };

  /** Watches exactly `list`. New files are stat-ed synchronously, before any event can be missed. */
  const track = (list: readonly string[], loadStartedAt: number | undefined): void => {
    const wanted = new Set(list.filter((file) => isAbsolute(file)).map((file) => resolve(file)));
    for (const file of files.keys()) if (!wanted.has(file)) untrack(file);
    for (const file of wanted) {
      if (files.has(file)) continue;
      const now = stateNow(file);
      files.set(file, { state: now.state, symlink: now.symlink });
      const dir = dirname(file);
      let directory = directories.get(dir);
      if (directory === undefined) {
        directory = { watcher: undefined, identity: undefined, names: new Map() };
        directories.set(dir, directory);
      }
      directory.names.set(basename(file), file);
      // Written after the load began: the load may have read the text before it.
      if (
        loadStartedAt !== undefined &&
        now.mtimeMs !== undefined &&
        now.mtimeMs >= loadStartedAt
      ) {
        schedule();
      }
    }
    for (const [dir, directory] of directories) {
      const identity = identityOf(dir);
      if (directory.watcher !== undefined && identity === directory.identity) continue;
      directory.watcher?.close();
      directory.watcher = undefined;
      if (identity !== undefined && open(dir, directory)) checkAll(directory);
    }
    if ([...directories.values()].some((directory) => directory.watcher === undefined)) {
      retryLater();
    }
  };

  const untrack = (file: string): void => {
    files.delete(file);
    const dir = dirname(file);
    const directory = directories.get(dir);
    if (directory === undefined) return;
    directory.names.delete(basename(file));
    if (directory.names.size > 0) return;
    directory.watcher?.close();
    directories.delete(dir);
  };

  const open = (dir: string, directory: Directory): boolean => {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (!closed && directory.watcher === watcher) onEvent(directory, name);
      });
      watcher.on('error', () => {
        // The directory went away (or cannot be read): look again, and watch it when it is back.
        if (closed || directory.watcher !== watcher) return;
        watcher.close();
        directory.watcher = undefined;
        checkAll(directory);
        retryLater();
      });
      directory.watcher = watcher;
      directory.identity = identityOf(dir);
      return true;
    } catch {
      return false;
    }
  };

  const onEvent = (directory: Directory, name: string | null): void => {
    const file = name === null ? undefined : directory.names.get(name);
    if (file !== undefined) {
      void check(file);
      return;
    }
    // An event for a sibling matters only when it may have moved what a watched symlink points to.
    for (const path of directory.names.values()) {
      if (name === null || files.get(path)?.symlink === true) void check(path);
    }
  };

  const checkAll = (directory: Directory): void => {
    for (const file of directory.names.values()) void check(file);
  };

  /** Schedules a load when the file really changed: many events (chmod, atime) are no edit. */
  const check = async (file: string): Promise<void> => {
    const now = await stateLater(file);
    const tracked = files.get(file);
    if (closed || tracked === undefined || tracked.state === now.state) return;
    tracked.state = now.state;
    tracked.symlink = now.symlink;
    schedule();
  };

  const retryLater = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (closed) return;
      for (const [dir, directory] of directories) {
        if (directory.watcher === undefined && open(dir, directory)) checkAll(directory);
      }
      if ([...directories.values()].some((directory) => directory.watcher === undefined)) {
        retryLater();
      }
    }, RETRY_MS);
    retry.unref();
  };

  track(options.files, undefined);

  return {
    close() {
      if (closing !== undefined) return closing;
      closed = true;
      clearTimeout(debounce);
      clearTimeout(retry);
      for (const directory of directories.values()) directory.watcher?.close();
      directories.clear();
      files.clear();
      closing = (running ?? Promise.resolve()).then(() => undefined);
      return closing;
    },
    get reloads() {
      return reloads;
    },
    get loads() {
      return loads;
    },
  };
}

interface FileState {
  readonly state: string;
  readonly symlink: boolean;
  readonly mtimeMs: number | undefined;
}

function stateNow(file: string): FileState {
  let symlink = false;
  try {
    symlink = lstatSync(file).isSymbolicLink();
    const target = statSync(file, { bigint: true });
    return { state: stateKey(target), symlink, mtimeMs: Number(target.mtimeMs) };
  } catch (error) {
    return { state: `unreadable:${codeOf(error)}`, symlink, mtimeMs: undefined };
  }
}

async function stateLater(file: string): Promise<FileState> {
  let symlink = false;
  try {
    symlink = (await lstat(file)).isSymbolicLink();
    const target = await stat(file, { bigint: true });
    return { state: stateKey(target), symlink, mtimeMs: Number(target.mtimeMs) };
  } catch (error) {
    return { state: `unreadable:${codeOf(error)}`, symlink, mtimeMs: undefined };
  }
}

function stateKey(target: {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}): string {
  return `${target.dev}:${target.ino}:${target.size}:${target.mtimeNs}`;
}

function identityOf(dir: string): string | undefined {
  try {
    const found = statSync(dir, { bigint: true });
    return `${found.dev}:${found.ino}`;
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
