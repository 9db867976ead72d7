/**
 * Help text, rendered from the same command data citty parses with. Not citty's renderUsage:
 * it measures columns with colour codes included, so its plain-text output does not line up.
 */
import type { ArgDef, CommandMeta } from 'citty';
import type { Painter } from './colors.js';
import type { AnyCommand } from './commands/index.js';

/** Commands whose shape the flags alone do not tell: the server's command line follows `--`. */
const USAGE_LINES: Readonly<Record<string, readonly string[]>> = {
  'kvlar lint': ['kvlar lint --policy <file|dir> [options] [-- <command> [args…]]'],
  'kvlar proxy': [
    'kvlar proxy --stdio --policy <file> [options] -- <command> [args…]',
    'kvlar proxy --listen <host:port> --policy <file> [options] (--upstream <host:port> | -- <command> [args…])',
  ],
};

interface Row {
  readonly label: string;
  readonly text: string;
}

const HELP_ROW: Row = { label: '-h, --help', text: 'Show this help' };

/** `parent` is the command line before this command's name: `kvlar`, `kvlar audit`. */
export async function usageOf(
  command: AnyCommand,
  parent: string | undefined,
  paint: Painter,
): Promise<string> {
  const meta = await resolve(command.meta);
  const allDefs = (await resolve(command.args)) ?? {};
  const defs = Object.fromEntries(
    Object.entries(allDefs).filter(([, def]) => def.type !== 'positional'),
  );
  const positionals = Object.entries(allDefs).filter(([, def]) => def.type === 'positional');
  const name = [parent, meta?.name].filter((part) => part !== undefined && part !== '').join(' ');
  const subCommands = await resolve(command.subCommands);

  const lines = [`${paint.bold(name)} — ${meta?.description ?? ''}`, ''];
  const options = Object.entries(defs).map(([flag, def]) => optionRow(flag, def));
  if (subCommands !== undefined) {
    lines.push(`Usage: ${name} <command> [options]`, '', 'Commands:');
    const rows: Row[] = [];
    for (const [commandName, load] of Object.entries(subCommands)) {
      const sub = await resolve<CommandMeta>((await resolve(load))?.meta);
      rows.push({ label: commandName, text: sub?.description ?? '' });
    }
    lines.push(...table(rows, paint), '');
  } else {
    const required = Object.entries(defs)
      .filter(([, def]) => def.type !== 'boolean' && def.required === true)
      .map(([flag, def]) => `--${flag} <${hintOf(flag, def)}>`);
    const operands = positionals.map(([flag, def]) => `<${hintOf(flag, def)}>`);
    const custom = USAGE_LINES[name];
    if (custom !== undefined)
      lines.push(
        ...custom.map((line, index) => `${index === 0 ? 'Usage: ' : '       '}${line}`),
        '',
      );
    else lines.push(`Usage: ${[name, ...operands, ...required, '[options]'].join(' ')}`, '');
    if (positionals.length > 0) {
      const rows = positionals.map(([flag, def]) => ({
        label: `<${hintOf(flag, def)}>`,
        text: def.description ?? '',
      }));
      lines.push('Arguments:', ...table(rows, paint), '');
    }
  }
  lines.push('Options:', ...table([...options, HELP_ROW], paint));
  if (subCommands !== undefined) {
    lines.push('', `Run '${name} <command> --help' for the options of a command.`);
  }
  return lines.join('\n');
}

function optionRow(flag: string, def: ArgDef): Row {
  const aliases = 'alias' in def ? [def.alias ?? []].flat() : [];
  const short = aliases.find((alias) => alias.length === 1);
  const value = def.type === 'boolean' ? '' : ` <${hintOf(flag, def)}>`;
  const label = `${short === undefined ? '    ' : `-${short}, `}--${flag}${value}`;
  const notes = [
    def.required === true ? '(required)' : undefined,
    def.default === undefined ? undefined : `(default: ${String(def.default)})`,
  ].filter((note) => note !== undefined);
  return { label, text: [def.description ?? '', ...notes].join(' ').trim() };
}

function hintOf(flag: string, def: ArgDef): string {
  return def.valueHint ?? flag.replace(/-/g, '_');
}

function table(rows: readonly Row[], paint: Painter): string[] {
  const width = Math.max(...rows.map((row) => row.label.length));
  return rows.map((row) => `  ${paint.bold(row.label.padEnd(width))}    ${row.text}`.trimEnd());
}

type Resolvable<T> = T | Promise<T> | (() => T) | (() => Promise<T>);

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? await (value as () => T | Promise<T>)() : await value;
}
