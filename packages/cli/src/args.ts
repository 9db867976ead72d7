/**
 * citty parses leniently (an unknown flag becomes one more value, a missing value an empty
 * string). A typo must not silently change what a command does, so every command line is first
 * checked here, strictly, and any problem is a usage error (exit 2).
 */
import { parseArgs } from 'node:util';
import { didYouMean } from '@kvlar/core';
import type { ArgDef, ArgsDef } from 'citty';
import { CliError } from './errors.js';

type OptionConfig = { type: 'string' | 'boolean'; short?: string };

export function checkArgs(rawArgs: readonly string[], defs: ArgsDef, command: string): void {
  const fail = (message: string): never => {
    throw new CliError('usage', message, { command });
  };
  const options: Record<string, OptionConfig> = {};
  const longNames: string[] = [];
  const operands: [string, ArgsDef[string]][] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'positional') {
      operands.push([name, def]);
      continue;
    }
    const type = def.type === 'boolean' ? 'boolean' : 'string';
    const aliases = 'alias' in def ? [def.alias ?? []].flat() : [];
    const short = aliases.find((alias) => alias.length === 1);
    options[name] = short === undefined ? { type } : { type, short };
    longNames.push(`--${name}`);
  }

  const { tokens } = parseArgs({
    args: [...rawArgs],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const given = new Map<string, string | boolean>();
  let positionals = 0;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals++;
      if (positionals > operands.length && !isVariadic(operands.at(-1)?.[1])) {
        const takes =
          operands.length === 0 ? 'takes flags only' : `takes ${operands.length} argument(s)`;
        fail(`unexpected argument '${token.value}' (${command} ${takes})`);
      }
      if (token.value === '') fail('an argument must not be empty');
      continue;
    }
    if (!Object.hasOwn(options, token.name)) {
      fail(`unknown flag '${token.rawName}'${didYouMean(token.rawName, longNames, "'")}`);
    }
    const type = options[token.name]!.type;
    if (type === 'boolean') {
      if (token.value !== undefined) fail(`flag '${token.rawName}' takes no value`);
      given.set(token.name, true);
      continue;
    }
    // A value that looks like a flag is almost always a forgotten value: `-p --json`.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      fail(`flag '${token.rawName}' needs a value`);
    }
    given.set(token.name, token.value ?? '');
  }

  for (const [index, [name, def]] of operands.entries()) {
    const hint = def.valueHint ?? name;
    if (def.required !== false && index >= positionals) fail(`missing argument <${hint}>`);
  }
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'boolean' || def.type === 'positional') continue;
    const value = given.get(name);
    if (def.required === true && value === undefined) fail(`missing required flag '--${name}'`);
    if (value === '') fail(`flag '--${name}' must not be empty`);
  }
}

/**
 * Marks a command's last positional operand as taking any number of values (`kvlar test
 * FILE…`); citty has no such notion, and without it a second value is an unexpected argument.
 */
export function variadic<T extends ArgDef>(def: T): T {
  return { ...def, variadic: true };
}

function isVariadic(def: ArgDef | undefined): boolean {
  return def !== undefined && (def as { variadic?: unknown }).variadic === true;
}

/** `--help` / `-h` anywhere before a `--`. */
export function wantsHelp(rawArgs: readonly string[]): boolean {
  for (const arg of rawArgs) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
