import { parseArgs } from 'node:util';
import type { Engine } from '@kvlar/core';
import { type PolicyWatcher, policyInfo, watchPolicies } from '@kvlar/proxy';
import { defineCommand } from 'citty';
import { CliError, ExitCode } from '../errors.js';
import { loadPolicySet, reloadPolicySet } from '../policy-set.js';
import { reportIssues } from '../report.js';
import { runtimeOf } from '../runtime.js';
import {
  answerLine,
  answerOversize,
  DEFAULT_MAX_LINE_BYTES,
  SERVE_PROTOCOL,
  type ServeContext,
} from '../serve-protocol.js';
import { serveStdio } from '../serve-stdio.js';
import { VERSION } from '../version.js';

const COMMAND = 'kvlar serve';

export const serveCommand = defineCommand({
  meta: {
    name: 'serve',
    description: 'Answer evaluation requests, one JSON line each, on stdin/stdout (for SDKs)',
  },
  args: {
    stdio: {
      type: 'boolean',
      description: 'Read requests on stdin, write answers on stdout (the only transport)',
    },
    policy: {
      type: 'string',
      alias: 'p',
      required: true,
      valueHint: 'file',
      description: 'A policy file (repeat for several, evaluated in order)',
    },
    watch: {
      type: 'boolean',
      description:
        'Reload policies (and what they extend) when they change; a bad edit keeps the last good one',
    },
    'max-line-bytes': {
      type: 'string',
      valueHint: 'bytes',
      description: `Answer longer request lines with a too_large error (default ${DEFAULT_MAX_LINE_BYTES})`,
    },
  },
  async run(context) {
    const runtime = runtimeOf(context);
    const { args } = context;
    const usage = (message: string) => new CliError('usage', message, { command: COMMAND });
    if (args.stdio !== true) {
      throw usage("give '--stdio': requests on stdin, answers on stdout (the only transport)");
    }
    const maxLineBytes = maxLineBytesOf(args['max-line-bytes'], usage);
    const policies = policiesOf(context.rawArgs);

    // An invalid policy ends the command before stdin is read: nothing was ever answered.
    const initial = loadPolicySet(policies, runtime);
    if (!initial.ok) {
      reportIssues(runtime, initial.issues);
      return ExitCode.failure;
    }
    reportIssues(runtime, initial.warnings);
    let engine = initial.engine;
    let reloads = 0;

    const serveContext: ServeContext = {
      engine: () => engine,
      info: () => infoOf(engine, reloads),
    };
    let watcher: PolicyWatcher | undefined;
    if (args.watch === true) {
      watcher = watchPolicies({
        files: initial.files,
        hash: policyInfo(engine).hash,
        load: () => reloadPolicySet(policies, runtime),
        onReload: (load) => {
          engine = load.engine;
          reloads += 1;
          const hash = policyInfo(load.engine).hash.slice(0, 12);
          runtime.logger.info(
            `kvlar: policies reloaded: ${load.engine.ruleCount} rules, sha256 ${hash}`,
          );
        },
        onError: (load) => {
          runtime.logger.error(load.message);
          runtime.logger.error(
            'kvlar: the policy change was not loaded; the last good policy stays in force',
          );
        },
      });
    }
    try {
      await serveStdio({
        input: process.stdin,
        output: process.stdout,
        maxLineBytes,
        answer: (frame) =>
          frame.kind === 'line'
            ? answerLine(frame.bytes, serveContext)
            : answerOversize(frame, maxLineBytes),
      });
    } finally {
      await watcher?.close();
      process.stdin.unref?.();
    }
    // A closed stdout is the reader's choice (as for `kvlar schema | head`), not a failure.
    return ExitCode.ok;
  },
});

/** What `{"op": "info"}` answers. */
function infoOf(engine: Engine, reloads: number): Record<string, unknown> {
  const info = policyInfo(engine);
  return {
    protocol: SERVE_PROTOCOL,
    version: VERSION,
    policies: engine.policies.map((policy) => ({
      name: policy.name,
      version: policy.version,
      file: policy.file ?? null,
    })),
    hash: info.hash,
    rules: engine.ruleCount,
    reloads,
  };
}

/** Every `-p`, in order: citty keeps only the last. The command line was checked (args.ts). */
function policiesOf(rawArgs: readonly string[]): string[] {
  const { values } = parseArgs({
    args: [...rawArgs],
    options: {
      policy: { type: 'string', short: 'p', multiple: true },
      stdio: { type: 'boolean' },
      watch: { type: 'boolean' },
      'max-line-bytes': { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
  });
  const policy = values.policy;
  return Array.isArray(policy) ? policy.filter((item) => typeof item === 'string') : [];
}

function maxLineBytesOf(text: string | undefined, usage: (message: string) => CliError): number {
  if (text === undefined) return DEFAULT_MAX_LINE_BYTES;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1024 || !Number.isSafeInteger(value)) {
    throw usage(`--max-line-bytes must be a whole number of at least 1024, not '${text}'`);
  }
  return value;
}
