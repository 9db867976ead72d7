/**
 * `kvlar wrap` puts kvlar in front of the MCP servers of a client's config (Claude Desktop,
 * Cursor, VS Code, Windsurf, Claude Code); `kvlar unwrap` takes it out again, giving back the
 * file as it was, byte for byte.
 */
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { didYouMean } from '@kvlar/core';
import { type ArgsDef, defineCommand } from 'citty';
import { createTwoFilesPatch } from 'diff';
import {
  ANY_CONTAINERS,
  CLIENT_IDS,
  CLIENT_NAMES,
  type ClientId,
  type ConfigLocation,
  type ContainerPath,
  configLocations,
  containersOf,
  inferClient,
  type Scope,
  scopesOf,
} from '../clients.js';
import { CliError, ExitCode } from '../errors.js';
import { absoluteFrom, displayPath, kindOf } from '../paths.js';
import { loadPolicySet } from '../policy-set.js';
import { describeFsError } from '../read-text.js';
import { reportIssues } from '../report.js';
import { type Runtime, runtimeOf } from '../runtime.js';
import { isKvlarCommand, resolveKvlarCommand } from '../wrap-command.js';
import {
  countServers,
  type EntryResult,
  type EntryStatus,
  parseConfig,
  type SyntaxProblem,
  unwrapConfig,
  wrapConfig,
} from '../wrap-edit.js';
import { backUp, ConfigChangedError, readConfig, replaceConfig } from '../wrap-files.js';

const selectors = {
  client: {
    type: 'string',
    valueHint: 'name',
    description: `${CLIENT_IDS.join(', ')} (default: the one whose config is found)`,
  },
  config: {
    type: 'string',
    valueHint: 'file',
    description: 'This config file (its client is told by its name or content, or by --client)',
  },
  scope: {
    type: 'string',
    valueHint: 'user|project',
    description: "user: the client's own config (default); project: the one in this directory",
  },
  all: { type: 'boolean', description: 'Every client whose config is found' },
  only: {
    type: 'string',
    valueHint: 'name',
    description: 'Only this server (repeatable)',
  },
  skip: {
    type: 'string',
    valueHint: 'name',
    description: 'Not this server (repeatable)',
  },
  'dry-run': {
    type: 'boolean',
    description: 'Print what would change as a unified diff; write nothing',
  },
  json: { type: 'boolean', description: 'Print a report as JSON' },
} as const satisfies ArgsDef;

export const wrapCommand = defineCommand({
  meta: {
    name: 'wrap',
    description: "Put kvlar in front of every MCP server in a client's config",
  },
  args: {
    ...selectors,
    policy: {
      type: 'string',
      alias: 'p',
      valueHint: 'file',
      description: 'The policy the servers run under (default: ~/.kvlar/policy.yaml)',
    },
  },
  run(context) {
    return run('wrap', context.rawArgs, runtimeOf(context));
  },
});

export const unwrapCommand = defineCommand({
  meta: {
    name: 'unwrap',
    description: "Take kvlar out of a client's config: restore each server's own command",
  },
  args: selectors,
  run(context) {
    return run('unwrap', context.rawArgs, runtimeOf(context));
  },
});

type Mode = 'wrap' | 'unwrap';

interface Options {
  readonly client: ClientId | undefined;
  readonly config: string | undefined;
  readonly scope: Scope | undefined;
  readonly all: boolean;
  readonly only: readonly string[];
  readonly skip: readonly string[];
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly policy: string | undefined;
}

/** One config file to edit. */
interface Target {
  readonly path: string;
  readonly client: ClientId | undefined;
  readonly scope: Scope | undefined;
}

interface FileReport {
  readonly target: Target;
  readonly client: ClientId | undefined;
  readonly error: (SyntaxProblem | { message: string }) | undefined;
  readonly entries: readonly EntryResult[];
  readonly changed: boolean;
  /** The text read and the text to write, when the file could be edited. */
  readonly texts: { readonly before: string; readonly after: string } | undefined;
  backup: string | undefined;
  diff: string | undefined;
  writeError: string | undefined;
}

function run(mode: Mode, rawArgs: readonly string[], runtime: Runtime): number {
  const options = optionsOf(mode, rawArgs);
  const environment = {
    home: homeOf(runtime.env),
    platform: process.platform,
    env: runtime.env,
    cwd: runtime.cwd,
  };

  let policy: string | undefined;
  let kvlarCommand: string | undefined = nonEmpty(runtime.env.KVLAR_WRAP_COMMAND);
  if (mode === 'wrap') {
    policy = checkedPolicy(options.policy, environment.home, runtime);
    if (policy === undefined) return ExitCode.failure;
  }

  const targets = targetsOf(mode, options, environment, runtime);
  const selection = { only: new Set(options.only), skip: new Set(options.skip) };
  let kvlarWarning: string | undefined;
  if (mode === 'wrap') {
    const resolved = resolveKvlarCommand({
      env: runtime.env,
      platform: process.platform,
      script: process.argv[1],
    });
    kvlarCommand = resolved.command;
    kvlarWarning = resolved.warning;
  }
  const isKvlar = (command: string) => isKvlarCommand(command, kvlarCommand);

  // Plan every file first: a typo in --only / --skip must stop the run before anything is written.
  const reports: FileReport[] = targets.map((target) => {
    const read = readConfig(target.path);
    const base = {
      target,
      entries: [],
      changed: false,
      texts: undefined,
      backup: undefined,
      diff: undefined,
      writeError: undefined,
    };
    if (!read.ok) return { ...base, client: target.client, error: read };
    const parsed = parseConfig(read.text);
    const client =
      target.client ??
      (parsed.ok
        ? inferClient(target.path, parsed.root === undefined ? {} : jsonKeys(parsed.root))
        : undefined);
    const containers: readonly ContainerPath[] =
      client === undefined ? ANY_CONTAINERS : containersOf(client);
    const edit =
      mode === 'wrap'
        ? wrapConfig(read.text, containers, {
            command: kvlarCommand!,
            policy: policy!,
            selection,
            isKvlar,
          })
        : unwrapConfig(read.text, containers, { selection, isKvlar });
    if (!edit.ok) return { ...base, client, error: edit.error };
    return {
      ...base,
      client,
      error: undefined,
      entries: edit.entries,
      changed: edit.text !== read.text,
      texts: { before: read.text, after: edit.text },
    };
  });
  checkNamesExist(mode, reports, options);

  if (mode === 'wrap' && kvlarWarning !== undefined && reports.some((report) => report.changed)) {
    runtime.logger.warn(`warning: ${kvlarWarning}`);
  }
  for (const report of reports) {
    const { texts } = report;
    if (texts === undefined || !report.changed) continue;
    const shown = displayPath(report.target.path, runtime.cwd);
    if (options.dryRun) {
      // Without the `Index:` and `===` lines the diff package puts first: as `diff -u` prints it.
      report.diff = createTwoFilesPatch(shown, shown, texts.before, texts.after)
        .split('\n')
        .filter((line, index) => index > 1 || !/^(Index: |=+$)/.test(line))
        .join('\n');
      continue;
    }
    try {
      report.backup = backUp(
        report.target.path,
        texts.before,
        mode === 'wrap' ? 'pre-kvlar' : 'pre-unwrap',
      );
      replaceConfig(report.target.path, texts.before, texts.after);
    } catch (error) {
      report.writeError =
        error instanceof ConfigChangedError
          ? error.message
          : `cannot write ${shown}: ${describeFsError(error)}`;
    }
  }

  for (const report of reports) reportProblems(report, runtime);
  if (options.json) {
    runtime.printJson(jsonReport(mode, options, reports, { policy, command: kvlarCommand }));
  } else {
    printHuman(mode, options, reports, runtime);
  }
  const failed = reports.some(
    (report) => report.error !== undefined || report.writeError !== undefined,
  );
  return failed ? ExitCode.failure : ExitCode.ok;
}

function optionsOf(mode: Mode, rawArgs: readonly string[]): Options {
  const usage = (message: string) => new CliError('usage', message, { command: `kvlar ${mode}` });
  const { values } = parseArgs({
    args: [...rawArgs],
    options: {
      client: { type: 'string' },
      config: { type: 'string' },
      scope: { type: 'string' },
      all: { type: 'boolean' },
      only: { type: 'string', multiple: true },
      skip: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      policy: { type: 'string', short: 'p' },
    },
    strict: false,
    allowPositionals: true,
  });
  const string = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : undefined;
  const strings = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

  const clientName = string(values.client);
  let client: ClientId | undefined;
  if (clientName !== undefined) {
    client = CLIENT_IDS.find((id) => id === clientName);
    if (client === undefined) {
      throw usage(
        `unknown client '${clientName}'${didYouMean(clientName, CLIENT_IDS, "'")} (clients: ${CLIENT_IDS.join(', ')})`,
      );
    }
  }
  const scopeName = string(values.scope);
  let scope: Scope | undefined;
  if (scopeName !== undefined) {
    if (scopeName !== 'user' && scopeName !== 'project') {
      throw usage(`--scope must be user or project, not '${scopeName}'`);
    }
    scope = scopeName;
  }
  const options: Options = {
    client,
    config: string(values.config),
    scope,
    all: values.all === true,
    only: strings(values.only),
    skip: strings(values.skip),
    dryRun: values['dry-run'] === true,
    json: values.json === true,
    policy: string(values.policy),
  };
  if (options.all && options.client !== undefined) {
    throw usage('--all and --client do not go together: --all means every client');
  }
  if (options.all && options.config !== undefined) {
    throw usage('--all and --config do not go together');
  }
  if (options.config !== undefined && options.scope !== undefined) {
    throw usage(
      '--scope picks among the configs kvlar finds; with --config there is nothing to pick',
    );
  }
  if (client !== undefined && scope !== undefined && !scopesOf(client).includes(scope)) {
    throw usage(`${CLIENT_NAMES[client]} has no ${scope}-scope config`);
  }
  return options;
}

/** The absolute policy path, if it exists and loads; else its problems are reported. */
function checkedPolicy(
  given: string | undefined,
  home: string,
  runtime: Runtime,
): string | undefined {
  const kvlarHome = nonEmpty(runtime.env.KVLAR_HOME);
  const path =
    given === undefined
      ? absoluteFrom(runtime.cwd, join(kvlarHome ?? join(home, '.kvlar'), 'policy.yaml'))
      : absoluteFrom(runtime.cwd, given);
  const kind = kindOf(path);
  if (kind === 'missing') {
    const hint =
      given === undefined
        ? "create one with 'kvlar init', or name one with --policy FILE"
        : "create one with 'kvlar init'";
    throw new CliError(
      'invalid_input',
      `policy file not found: ${displayPath(path, runtime.cwd)} (${hint})`,
    );
  }
  if (kind !== 'file') {
    throw new CliError('invalid_input', `${displayPath(path, runtime.cwd)} is not a policy file`);
  }
  // A wrapped server with a broken policy would not start at all: check it now.
  const loaded = loadPolicySet([path], { cwd: runtime.cwd, loader: runtime.loader });
  if (!loaded.ok) {
    reportIssues(runtime, loaded.issues);
    runtime.logger.error('error: the policy is invalid; nothing was wrapped');
    return undefined;
  }
  return path;
}

function targetsOf(
  mode: Mode,
  options: Options,
  environment: Parameters<typeof configLocations>[0],
  runtime: Runtime,
): Target[] {
  const show = (path: string) => displayPath(path, runtime.cwd);
  if (options.config !== undefined) {
    const path = absoluteFrom(runtime.cwd, options.config);
    if (kindOf(path) === 'missing') {
      throw new CliError('invalid_input', `config file not found: ${show(path)}`);
    }
    return [{ path, client: options.client, scope: undefined }];
  }
  const scope = options.scope ?? 'user';
  const locations = configLocations(environment);
  const inScope = locations.filter(
    (location) =>
      location.scope === scope &&
      (options.client === undefined || location.client === options.client),
  );
  const existing = unique(inScope.filter((location) => kindOf(location.path) !== 'missing'));
  const otherScope: Scope = scope === 'user' ? 'project' : 'user';
  const elsewhere = () => {
    const found = unique(
      locations.filter(
        (location) =>
          location.scope === otherScope &&
          (options.client === undefined || location.client === options.client) &&
          kindOf(location.path) !== 'missing',
      ),
    ).filter(holdsServers);
    return found.length === 0
      ? undefined
      : `; found with --scope ${otherScope}: ${found.map((location) => show(location.path)).join(', ')}`;
  };
  const looked = inScope.map((location) => show(location.path)).join(', ');
  if (options.client !== undefined) {
    if (existing.length === 0) {
      throw new CliError(
        'invalid_input',
        `no ${CLIENT_NAMES[options.client]} config found (looked for ${looked})${elsewhere() ?? ''}`,
      );
    }
    return existing.map(targetOf);
  }
  const detected = existing.filter(holdsServers);
  if (detected.length === 0) {
    throw new CliError(
      'invalid_input',
      `no MCP client config with servers found in ${scope} scope (looked for ${looked})${
        elsewhere() ?? '; name a file with --config FILE'
      }`,
    );
  }
  if (detected.length > 1 && !options.all) {
    const width = Math.max(...detected.map((location) => CLIENT_NAMES[location.client].length));
    const list = detected
      .map((location) => `  ${CLIENT_NAMES[location.client].padEnd(width)}  ${show(location.path)}`)
      .join('\n');
    throw new CliError(
      'usage',
      `several MCP client configs found:\n${list}\nPick one with --client NAME (or --config FILE), or ${mode} them all with --all.`,
      { command: `kvlar ${mode}` },
    );
  }
  return detected.map(targetOf);
}

function targetOf(location: ConfigLocation): Target {
  return { path: location.path, client: location.client, scope: location.scope };
}

/** Found for auto-detection: it holds a server, or it cannot be read (the user must hear of it). */
function holdsServers(location: ConfigLocation): boolean {
  const read = readConfig(location.path);
  if (!read.ok) return true;
  const parsed = parseConfig(read.text);
  return !parsed.ok || countServers(parsed.root, containersOf(location.client)) > 0;
}

/** One location per file, even when two spellings lead to it (a symlinked folder). */
function unique(locations: readonly ConfigLocation[]): ConfigLocation[] {
  const seen = new Set<string>();
  return locations.filter((location) => {
    let real: string;
    try {
      real = realpathSync(location.path);
    } catch {
      real = location.path;
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** `--only githb` would wrap nothing, `--skip githb` the server meant to be left alone. */
function checkNamesExist(mode: Mode, reports: readonly FileReport[], options: Options): void {
  if (reports.some((report) => report.error !== undefined)) return; // cannot tell
  const names = new Set(reports.flatMap((report) => report.entries.map((entry) => entry.name)));
  for (const [flag, list] of [
    ['--only', options.only],
    ['--skip', options.skip],
  ] as const) {
    for (const name of list) {
      if (names.has(name)) continue;
      throw new CliError(
        'usage',
        `${flag} '${name}': no server of that name${didYouMean(name, [...names], "'")}`,
        { command: `kvlar ${mode}` },
      );
    }
  }
}

function reportProblems(report: FileReport, runtime: Runtime): void {
  const file = displayPath(report.target.path, runtime.cwd);
  if (report.error !== undefined) {
    const where =
      'line' in report.error && report.error.line !== undefined
        ? `${file}:${report.error.line}:${report.error.column}`
        : file;
    runtime.logger.error(`${where}: error: ${report.error.message}; file left as it was`);
  }
  if (report.writeError !== undefined) runtime.logger.error(`error: ${report.writeError}`);
}

const DONE: Readonly<Record<Mode, EntryStatus>> = { wrap: 'wrapped', unwrap: 'unwrapped' };

function printHuman(
  mode: Mode,
  options: Options,
  reports: readonly FileReport[],
  runtime: Runtime,
): void {
  const paint = runtime.colors.stdout;
  const done = DONE[mode];
  let total = 0;
  let count = 0;
  const restart = new Set<string>();
  for (const report of reports) {
    const client = report.client === undefined ? 'MCP config' : CLIENT_NAMES[report.client];
    const scope = report.target.scope === undefined ? '' : ` (${report.target.scope})`;
    runtime.print(
      `${paint.bold(`${client}${scope}`)}: ${displayPath(report.target.path, runtime.cwd)}`,
    );
    if (report.error !== undefined) {
      runtime.print(`  ${paint.red('✗')} not valid: ${report.error.message}; left as it was`);
      continue;
    }
    if (report.entries.length === 0) runtime.print(`  no MCP servers in this file`);
    for (const entry of report.entries) {
      total++;
      const name = entryLabel(entry);
      if (entry.status === done && report.writeError !== undefined) {
        runtime.print(`  ${paint.red('✗')} ${name}: not ${done} (the file could not be written)`);
      } else if (entry.status === done) {
        count++;
        if (report.changed) restart.add(client);
        const line = (entry.commandLine ?? []).map(shellWord).join(' ');
        const verb = options.dryRun ? `would ${mode}` : done;
        const what = mode === 'wrap' ? line : `restored ${line}`;
        runtime.print(`  ${paint.green('✓')} ${name}: ${verb} (${what})`);
      } else if (entry.status === 'invalid') {
        runtime.print(`  ${paint.red('✗')} ${name}: ${entry.reason}, left alone`);
      } else if (entry.status === 'already_wrapped' || entry.status === 'not_wrapped') {
        runtime.print(`  ${paint.yellow('~')} ${name}: ${entry.reason}, skipping`);
      } else {
        const reason = entry.status === 'remote' ? `${entry.reason}, skipping` : entry.reason;
        runtime.print(`  ${paint.dim('-')} ${name}: ${reason}`);
      }
    }
    if (report.diff !== undefined) runtime.print(report.diff.trimEnd());
    if (report.backup !== undefined) {
      runtime.print(`  Backed up to ${displayPath(report.backup, runtime.cwd)}`);
    }
    if (report.writeError !== undefined) runtime.print(`  ${paint.red('✗')} not written`);
  }
  const servers = `${count} of ${total} server${total === 1 ? '' : 's'}`;
  const verb = mode === 'wrap' ? 'Wrapped' : 'Unwrapped';
  if (options.dryRun) {
    runtime.print(
      `Dry run: would ${mode} ${servers}; nothing written. Run without --dry-run to apply.`,
    );
  } else if (count > 0 && restart.size > 0) {
    runtime.print(
      `${paint.green('✓')} ${verb} ${servers}. Restart ${[...restart].join(' and ')} to apply.`,
    );
  } else if (reports.some((report) => report.writeError !== undefined)) {
    runtime.print(`${paint.red('✗')} Nothing was ${done}: a file could not be written.`);
  } else {
    runtime.print(`${paint.green('✓')} Nothing to ${mode}${leftAlone(reports)}.`);
  }
}

/** `: 2 already wrapped, 1 remote` */
function leftAlone(reports: readonly FileReport[]): string {
  const labels: Partial<Record<EntryStatus, string>> = {
    already_wrapped: 'already wrapped',
    not_wrapped: 'not wrapped',
    remote: 'remote',
    skipped: 'skipped',
    not_selected: 'skipped',
    invalid: 'invalid',
  };
  const counts = new Map<string, number>();
  for (const entry of reports.flatMap((report) => report.entries)) {
    const label = labels[entry.status];
    if (label !== undefined) counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const parts = [...counts].map(([label, count]) => `${count} ${label}`);
  return parts.length === 0 ? '' : `: ${parts.join(', ')}`;
}

function entryLabel(entry: EntryResult): string {
  // Claude Code keeps per-project servers in ~/.claude.json: projects[PATH].mcpServers.NAME
  if (entry.location.length === 4 && entry.location[0] === 'projects') {
    return `${entry.name} (project ${entry.location[1]})`;
  }
  return entry.name;
}

/** A word as a shell would need it: bare when it is plain, else in JSON quotes. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : JSON.stringify(word);
}

function jsonReport(
  mode: Mode,
  options: Options,
  reports: readonly FileReport[],
  wrapped: { policy: string | undefined; command: string | undefined },
): unknown {
  const statuses: readonly (EntryStatus | 'not_written')[] =
    mode === 'wrap'
      ? [
          'wrapped',
          'already_wrapped',
          'remote',
          'skipped',
          'not_selected',
          'invalid',
          'not_written',
        ]
      : ['unwrapped', 'not_wrapped', 'remote', 'skipped', 'not_selected', 'invalid', 'not_written'];
  // An entry of a file that could not be written was not changed, whatever the edit made of it.
  const statusOf = (report: FileReport, entry: FileReport['entries'][number]) =>
    entry.status === DONE[mode] && report.writeError !== undefined ? 'not_written' : entry.status;
  const summary: Record<string, number> = Object.fromEntries(statuses.map((status) => [status, 0]));
  for (const report of reports) {
    for (const entry of report.entries) {
      const status = statusOf(report, entry);
      summary[status] = (summary[status] ?? 0) + 1;
    }
  }
  return {
    ...(mode === 'wrap'
      ? { command: wrapped.command ?? null, policy: wrapped.policy ?? null }
      : {}),
    dry_run: options.dryRun,
    files: reports.map((report) => ({
      file: report.target.path,
      client: report.client ?? null,
      scope: report.target.scope ?? null,
      changed: report.changed && report.writeError === undefined,
      written: report.changed && !options.dryRun && report.writeError === undefined,
      backup: report.backup ?? null,
      diff: report.diff ?? null,
      error:
        report.error !== undefined
          ? {
              message: report.error.message,
              line: 'line' in report.error ? (report.error.line ?? null) : null,
              column: 'column' in report.error ? (report.error.column ?? null) : null,
            }
          : report.writeError !== undefined
            ? { message: report.writeError, line: null, column: null }
            : null,
      servers: report.entries.map((entry) => ({
        name: entry.name,
        location: entry.location,
        status: statusOf(report, entry),
        reason:
          statusOf(report, entry) === 'not_written'
            ? 'the file could not be written'
            : (entry.reason ?? null),
        command_line: entry.commandLine ?? null,
      })),
    })),
    summary,
  };
}

/** Enough of the document for inferClient: its top-level keys. */
function jsonKeys(root: import('jsonc-parser').Node): Record<string, true> {
  const keys: Record<string, true> = {};
  for (const property of root.children ?? []) {
    const key = property.children?.[0]?.value;
    if (typeof key === 'string')
      Object.defineProperty(keys, key, { value: true, enumerable: true });
  }
  return keys;
}

function homeOf(env: Readonly<Record<string, string | undefined>>): string {
  // As `kvlar init` has it, so that wrap finds the policy init wrote.
  return nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? homedir();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
