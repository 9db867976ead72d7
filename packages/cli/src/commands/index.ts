/** The command table. Loaded lazily: `kvlar validate` does not load the test runner. */
import { type ArgsDef, type CommandDef, defineCommand } from 'citty';

/** A command with its argument types erased: citty's CommandDef is invariant in them. */
export type AnyCommand = CommandDef<ArgsDef>;

function erase<T extends ArgsDef>(command: CommandDef<T>): AnyCommand {
  return command as unknown as AnyCommand;
}

export const commands: Record<string, () => Promise<AnyCommand>> = {
  init: () => import('./init.js').then((module) => erase(module.initCommand)),
  validate: () => import('./validate.js').then((module) => erase(module.validateCommand)),
  evaluate: () => import('./evaluate.js').then((module) => erase(module.evaluateCommand)),
  serve: () => import('./serve.js').then((module) => erase(module.serveCommand)),
  inspect: () => import('./inspect.js').then((module) => erase(module.inspectCommand)),
  proxy: () => import('./proxy.js').then((module) => erase(module.proxyCommand)),
  wrap: () => import('./wrap.js').then((module) => erase(module.wrapCommand)),
  unwrap: () => import('./wrap.js').then((module) => erase(module.unwrapCommand)),
  approvals: () => import('./approvals.js').then((module) => erase(module.approvalsCommand)),
  approve: () => import('./approvals.js').then((module) => erase(module.approveCommand)),
  deny: () => import('./approvals.js').then((module) => erase(module.denyCommand)),
  test: () => import('./test.js').then((module) => erase(module.testCommand)),
  lint: () => import('./lint.js').then((module) => erase(module.lintCommand)),
  schema: () => import('./schema.js').then((module) => erase(module.schemaCommand)),
  audit: () => import('./audit.js').then((module) => erase(module.auditCommand)),
  version: () => import('./version.js').then((module) => erase(module.versionCommand)),
};

export const rootCommand: AnyCommand = erase(
  defineCommand({
    meta: {
      name: 'kvlar',
      description: 'Policy engine and MCP proxy for AI agent tool calls',
    },
    args: {
      version: { type: 'boolean', alias: 'V', description: 'Print the version and exit' },
    },
    subCommands: commands,
  }),
);
