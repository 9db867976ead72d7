/**
 * The text edits of `kvlar wrap` and `kvlar unwrap`, on a client config's JSON/JSONC text. Pure:
 * text in, text and a report per server out.
 *
 * Edits are made by hand on the parse tree rather than with jsonc-parser's `modify`, which
 * formats what it inserts its own way: here every inserted separator is copied from the file
 * itself (its indentation, line ends, spacing), and each insertion has a shape unwrap recognises,
 * so that unwrap(wrap(text)) gives back the very same text.
 */
import { type Node, type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { ContainerPath } from './clients.js';

export type EntryStatus =
  | 'wrapped'
  | 'unwrapped'
  | 'already_wrapped'
  | 'not_wrapped'
  | 'remote'
  | 'skipped'
  | 'not_selected'
  | 'invalid';

export interface EntryResult {
  /** The server's name: its key in the config. */
  readonly name: string;
  /** Where the server is in the document: `['mcpServers', 'fs']`. */
  readonly location: readonly string[];
  readonly status: EntryStatus;
  /** Why it was left alone (or how it was found), for people. */
  readonly reason: string | undefined;
  /** The server's own command line: before wrapping, or as restored by unwrap. */
  readonly commandLine: readonly string[] | undefined;
}

export type ConfigEdit =
  | { readonly ok: true; readonly text: string; readonly entries: readonly EntryResult[] }
  | { readonly ok: false; readonly error: SyntaxProblem };

export interface SyntaxProblem {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Which servers a run touches: `--only` and `--skip`. */
export interface Selection {
  readonly only: ReadonlySet<string>;
  readonly skip: ReadonlySet<string>;
}

export interface WrapOptions {
  /** The `command` wrapped entries get: the kvlar binary. */
  readonly command: string;
  /** The absolute policy path. */
  readonly policy: string;
  readonly selection: Selection;
  /** Whether a command names kvlar (an entry that already runs it is not wrapped again). */
  readonly isKvlar: (command: string) => boolean;
}

export interface UnwrapOptions {
  readonly selection: Selection;
  readonly isKvlar: (command: string) => boolean;
}

/** The document's tree, or where its first syntax error is. Empty text is an empty object. */
export function parseConfig(
  text: string,
): { readonly ok: true; readonly root: Node | undefined } | { ok: false; error: SyntaxProblem } {
  // A BOM is kept in the text (the file is given back byte for byte) but hidden from the parser.
  const source = text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text;
  if (source.trim() === '') return { ok: true, root: undefined };
  const errors: ParseError[] = [];
  const root = parseTree(source, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    return { ok: false, error: { ...lineColumn(text, first.offset), message: messageOf(first) } };
  }
  if (root === undefined || root.type !== 'object') {
    return {
      ok: false,
      error: { line: 1, column: 1, message: 'the top level is not a JSON object' },
    };
  }
  return { ok: true, root };
}

/** How many server entries the file holds in the given places (for auto-detection). */
export function countServers(root: Node | undefined, containers: readonly ContainerPath[]): number {
  return serverEntries(root, containers).length;
}

export function wrapConfig(
  text: string,
  containers: readonly ContainerPath[],
  options: WrapOptions,
): ConfigEdit {
  return editConfig(text, containers, options.selection, (entry, edits) =>
    wrapEntry(text, entry, options, edits),
  );
}

export function unwrapConfig(
  text: string,
  containers: readonly ContainerPath[],
  options: UnwrapOptions,
): ConfigEdit {
  return editConfig(text, containers, options.selection, (entry, edits) =>
    unwrapEntry(text, entry, options, edits),
  );
}

interface Entry {
  readonly name: string;
  readonly location: readonly string[];
  /** The property node (`"fs": {…}`): key and value. */
  readonly property: Node;
  readonly value: Node;
}

interface Edit {
  readonly offset: number;
  readonly length: number;
  readonly content: string;
}

type Outcome = Pick<EntryResult, 'status' | 'reason' | 'commandLine'>;

function editConfig(
  text: string,
  containers: readonly ContainerPath[],
  selection: Selection,
  edit: (entry: Entry, edits: Edit[]) => Outcome,
): ConfigEdit {
  const parsed = parseConfig(text);
  if (!parsed.ok) return parsed;
  const edits: Edit[] = [];
  const entries: EntryResult[] = [];
  for (const entry of serverEntries(parsed.root, containers)) {
    const base = { name: entry.name, location: entry.location };
    if (selection.only.size > 0 && !selection.only.has(entry.name)) {
      entries.push({
        ...base,
        status: 'not_selected',
        reason: 'not named by --only',
        commandLine: undefined,
      });
    } else if (selection.skip.has(entry.name)) {
      entries.push({
        ...base,
        status: 'skipped',
        reason: 'skipped (--skip)',
        commandLine: undefined,
      });
    } else {
      entries.push({ ...base, ...edit(entry, edits) });
    }
  }
  return { ok: true, text: applyEdits(text, edits), entries };
}

function wrapEntry(text: string, entry: Entry, options: WrapOptions, edits: Edit[]): Outcome {
  const server = readServer(entry);
  if (server.kind !== 'local') return outcomeOf(server);
  const { command, args } = server;
  if (options.isKvlar(command.value) || wrapperArgs(args.values)) {
    return {
      status: 'already_wrapped',
      reason: describeWrapped(args.values, options),
      commandLine: undefined,
    };
  }
  const nameFlag = entry.name.startsWith('-')
    ? [`--server-name=${entry.name}`] // a value starting with '-' must be attached
    : ['--server-name', entry.name];
  const prefix = ['proxy', '--stdio', '--policy', options.policy, ...nameFlag, '--'];
  const items = [...prefix.map((item) => JSON.stringify(item)), raw(text, command.node)];
  let commandText = JSON.stringify(options.command);
  const array = args.node;
  if (array === undefined) {
    // No `args`: add one right after `command`, laid out like the entry, opening with a space or
    // a line break (an `args` that was `[]` never does): that is how unwrap knows to remove it.
    const before = lastGap(text.slice(entry.value.offset + 1, command.property.offset));
    const colon = text.slice(end(command.property.children![0]!), command.node.offset);
    let list: string;
    if (before.includes('\n')) {
      const indent = before.slice(before.lastIndexOf('\n') + 1);
      const unit = indentUnit(indentOf(text, entry.property.offset), indent);
      list = `[${before}${unit}${items.join(`,${before}${unit}`)}${before}]`;
    } else {
      list = `[ ${items.join(', ')} ]`;
    }
    commandText += `,${before.includes('\n') ? before : ' '}"args"${colon}${list}`;
  } else {
    const elements = array.children ?? [];
    const first = elements[0];
    if (first === undefined) {
      edits.push({ offset: array.offset + 1, length: 0, content: items.join(', ') });
    } else {
      const second = elements[1];
      const lead = text.slice(array.offset + 1, first.offset);
      const gap =
        second !== undefined
          ? lastGap(text.slice(end(first), second.offset))
          : lead.includes('\n')
            ? lastGap(lead)
            : ' ';
      edits.push({
        offset: first.offset,
        length: 0,
        content: items.map((item) => `${item},${gap}`).join(''),
      });
    }
  }
  edits.push({ offset: command.node.offset, length: command.node.length, content: commandText });
  return { status: 'wrapped', reason: undefined, commandLine: [command.value, ...args.values] };
}

function unwrapEntry(text: string, entry: Entry, options: UnwrapOptions, edits: Edit[]): Outcome {
  const server = readServer(entry);
  if (server.kind !== 'local') return outcomeOf(server);
  const { command, args } = server;
  const elements = args.node?.children ?? [];
  const separator = args.values.indexOf('--');
  const kvlar = options.isKvlar(command.value) || wrapperArgs(args.values);
  if (!kvlar || args.values[0] !== 'proxy' || separator === -1) {
    return {
      status: 'not_wrapped',
      reason: kvlar ? 'runs kvlar, but not as a wrapper' : 'not wrapped',
      commandLine: undefined,
    };
  }
  const original = elements[separator + 1];
  if (original === undefined || args.node === undefined) {
    return {
      status: 'invalid',
      reason: 'runs kvlar proxy, but names no command after --',
      commandLine: undefined,
    };
  }
  const array = args.node;
  const first = elements[0]!;
  const rest = elements[separator + 2];
  const commandText = raw(text, original);
  if (rest !== undefined) {
    edits.push({ offset: first.offset, length: rest.offset - first.offset, content: '' });
  } else if (text.slice(array.offset + 1, first.offset) === '') {
    // Wrap filled an `args: []` from its first character: empty it again.
    edits.push({ offset: first.offset, length: end(original) - first.offset, content: '' });
  } else if (/^\s*,\s*$/.test(text.slice(end(command.node), args.property!.offset))) {
    // Wrap added `args` right after `command`: remove it with its comma.
    edits.push({
      offset: end(command.node),
      length: end(args.property!) - end(command.node),
      content: '',
    });
  } else {
    edits.push({ offset: array.offset, length: array.length, content: '[]' });
  }
  edits.push({ offset: command.node.offset, length: command.node.length, content: commandText });
  return { status: 'unwrapped', reason: undefined, commandLine: args.values.slice(separator + 1) };
}

/**
 * Whether `args` open exactly as wrap writes them, `proxy --stdio --policy P --server-name N --`
 * (or `--server-name=N`) followed by a command: an entry wrapped under a `KVLAR_WRAP_COMMAND`
 * not named kvlar (`/opt/kvlar/run.sh`) is still known for one when that variable is gone. The
 * whole prefix, in wrap's order, must be there: a server of its own that merely takes a `proxy`
 * argument is not mistaken for a wrapper.
 */
function wrapperArgs(args: readonly string[]): boolean {
  const [proxy, stdio, policy, , name] = args;
  if (proxy !== 'proxy' || stdio !== '--stdio' || policy !== '--policy' || name === undefined) {
    return false;
  }
  const separator = name === '--server-name' ? 6 : name.startsWith('--server-name=') ? 5 : -1;
  return separator !== -1 && args[separator] === '--' && args.length > separator + 1;
}

/** What a server entry is, as far as wrapping goes. */
type Server =
  | {
      readonly kind: 'local';
      readonly command: { readonly property: Node; readonly node: Node; readonly value: string };
      readonly args: {
        readonly property: Node | undefined;
        readonly node: Node | undefined;
        readonly values: readonly string[];
      };
    }
  | { readonly kind: 'remote' | 'invalid'; readonly reason: string };

const REMOTE_TYPES = new Set([
  'http',
  'sse',
  'streamable-http',
  'streamableHttp',
  'ws',
  'websocket',
]);
const URL_KEYS = ['url', 'serverUrl', 'httpUrl'];

function readServer(entry: Entry): Server {
  const { value } = entry;
  if (value.type !== 'object') return { kind: 'invalid', reason: 'not an object' };
  const type = propertyOf(value, 'type')?.children?.[1];
  const typeName = type?.type === 'string' ? String(type.value) : undefined;
  const command = propertyOf(value, 'command');
  const urlKey = URL_KEYS.find((key) => propertyOf(value, key) !== undefined);
  if (typeName !== undefined && REMOTE_TYPES.has(typeName)) {
    return { kind: 'remote', reason: `remote server (type ${typeName})` };
  }
  if (command === undefined) {
    return urlKey !== undefined
      ? { kind: 'remote', reason: `remote server (${urlKey})` }
      : { kind: 'invalid', reason: 'has no command' };
  }
  const commandNode = command.children?.[1];
  if (commandNode?.type !== 'string') return { kind: 'invalid', reason: 'command is not a string' };
  const args = propertyOf(value, 'args');
  const argsNode = args?.children?.[1];
  if (args !== undefined) {
    const elements = argsNode?.type === 'array' ? (argsNode.children ?? []) : undefined;
    if (elements === undefined || elements.some((element) => element.type !== 'string')) {
      return { kind: 'invalid', reason: 'args is not a list of strings' };
    }
  }
  return {
    kind: 'local',
    command: { property: command, node: commandNode, value: String(commandNode.value) },
    args: {
      property: args,
      node: argsNode,
      values: (argsNode?.children ?? []).map((element) => String(element.value)),
    },
  };
}

function outcomeOf(server: Exclude<Server, { kind: 'local' }>): Outcome {
  return { status: server.kind, reason: server.reason, commandLine: undefined };
}

function describeWrapped(args: readonly string[], options: WrapOptions): string {
  const separator = args.indexOf('--');
  const flags = separator === -1 ? args : args.slice(0, separator);
  if (flags[0] !== 'proxy' || separator === -1) return 'already runs kvlar';
  const named = flags.some((flag) => flag === '--server-name' || flag.startsWith('--server-name='));
  const policy = policiesIn(flags);
  const notes: string[] = [];
  if (!named) notes.push('by the Rust kvlar, without --server-name');
  if (policy.length > 0 && !policy.includes(options.policy)) {
    notes.push(`with policy ${policy.join(', ')}`);
  }
  return notes.length === 0 ? 'already wrapped' : `already wrapped (${notes.join('; ')})`;
}

function policiesIn(flags: readonly string[]): string[] {
  const policies: string[] = [];
  for (let index = 0; index < flags.length; index++) {
    const flag = flags[index]!;
    if ((flag === '--policy' || flag === '-p') && index + 1 < flags.length) {
      policies.push(flags[++index]!);
    } else if (flag.startsWith('--policy=')) {
      policies.push(flag.slice('--policy='.length));
    }
  }
  return policies;
}

/** Every server entry under the given containers, in document order. */
function serverEntries(root: Node | undefined, containers: readonly ContainerPath[]): Entry[] {
  if (root === undefined) return [];
  const found: { node: Node; location: string[] }[] = [];
  for (const container of containers) {
    let level: { node: Node; location: string[] }[] = [{ node: root, location: [] }];
    for (const key of container) {
      const next: { node: Node; location: string[] }[] = [];
      for (const { node, location } of level) {
        if (node.type !== 'object') continue;
        if (key === '*') {
          for (const property of node.children ?? []) {
            const [name, value] = property.children ?? [];
            if (name !== undefined && value !== undefined) {
              next.push({ node: value, location: [...location, String(name.value)] });
            }
          }
        } else {
          const value = propertyOf(node, key)?.children?.[1];
          if (value !== undefined) next.push({ node: value, location: [...location, key] });
        }
      }
      level = next;
    }
    found.push(...level);
  }
  const entries: Entry[] = [];
  for (const { node, location } of found) {
    if (node.type !== 'object') continue;
    for (const property of node.children ?? []) {
      const [name, value] = property.children ?? [];
      if (name === undefined || value === undefined) continue;
      const key = String(name.value);
      entries.push({ name: key, location: [...location, key], property, value });
    }
  }
  return entries;
}

/** The last property named `key`: JSON.parse, which the clients use, keeps the last duplicate. */
function propertyOf(object: Node, key: string): Node | undefined {
  let found: Node | undefined;
  for (const property of object.children ?? []) {
    if (property.children?.[0]?.value === key) found = property;
  }
  return found;
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.offset - a.offset || b.length - a.length)) {
    out = out.slice(0, edit.offset) + edit.content + out.slice(edit.offset + edit.length);
  }
  return out;
}

function raw(text: string, node: Node): string {
  return text.slice(node.offset, end(node));
}

function end(node: Node): number {
  return node.offset + node.length;
}

/**
 * The white space that ends `between` (what separates two items), from its last line break on:
 * `"\n    "`, `"\r\n\t\t"`, `" "` or `""`.
 */
function lastGap(between: string): string {
  const space = /[ \t\r\n]*$/.exec(between)![0];
  const newline = space.lastIndexOf('\n');
  if (newline === -1) return space;
  return space.slice(newline > 0 && space[newline - 1] === '\r' ? newline - 1 : newline);
}

/** The indentation of the line `offset` is on. */
function indentOf(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** One level of indentation, from an outer and an inner line. */
function indentUnit(outer: string, inner: string): string {
  if (inner.length > outer.length && inner.startsWith(outer)) return inner.slice(outer.length);
  return inner.includes('\t') ? '\t' : '  ';
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line: before.split('\n').length, column: offset - lineStart + 1 };
}

const PARSE_MESSAGES: Readonly<Record<string, string>> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected text after the end of the document',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape in a string',
  InvalidCharacter: 'a control character in a string (it must be escaped)',
};

function messageOf(error: ParseError): string {
  const name = printParseErrorCode(error.error);
  return `invalid JSON: ${PARSE_MESSAGES[name] ?? name}`;
}
