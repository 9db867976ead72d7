/**
 * The `kvlar serve` protocol: one JSON request per line in, one JSON answer per line out. This
 * module turns a line into its answer and never throws: a line that is not a well-formed request
 * gets an `error` answer, never a decision, and the session goes on.
 */
import { isUtf8 } from 'node:buffer';
import { type Action, didYouMean, type Engine } from '@kvlar/core';
import type { OversizeFrame } from '@kvlar/proxy';
import { decisionJson, traceJson } from './commands/evaluate.js';

/** Bumped when an answer changes shape in a way an SDK must know about. */
export const SERVE_PROTOCOL = 1;

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/** Deeper JSON is refused: nothing legitimate nests this far, and rule checks walk arguments. */
export const MAX_NESTING_DEPTH = 256;

/** As `kvlar evaluate --agent-id`, so both answer the same request the same way. */
export const DEFAULT_AGENT_ID = 'cli-test';

export type ServeErrorCode = 'invalid_json' | 'too_large' | 'invalid_request' | 'internal_error';

export interface ServeContext {
  /** The engine deciding now (a `--watch` reload swaps it between requests). */
  engine(): Engine;
  /** What `{"op": "info"}` answers, besides `id`. */
  info(): Record<string, unknown>;
}

type Id = string | number | boolean | null;

const EVALUATE_KEYS = [
  'id',
  'op',
  'tool',
  'resource',
  'arguments',
  'parameters',
  'action_type',
  'agent_id',
  'server',
  'explain',
];
const EVALUATE_KEY_SET = new Set(EVALUATE_KEYS);
const OPS = ['evaluate', 'ping', 'info'];

/** The answer to one line, as JSON text without its newline. */
export function answerLine(bytes: Buffer, context: ServeContext): string {
  if (!isUtf8(bytes)) {
    return errorAnswer(sniffId(bytes.toString('latin1')), 'invalid_json', 'the line is not UTF-8');
  }
  const text = bytes.toString('utf8');
  // Reaching depth d takes at least 2d characters: a short line needs no scan.
  if (text.length > 2 * MAX_NESTING_DEPTH && nestsTooDeep(text)) {
    return errorAnswer(
      sniffId(text),
      'invalid_json',
      `the request nests deeper than ${MAX_NESTING_DEPTH} levels`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return errorAnswer(sniffId(text), 'invalid_json', `not valid JSON: ${messageOf(error)}`);
  }
  try {
    return answerRequest(value, context);
  } catch (error) {
    // The engine is total; this is a bug, and still never a decision.
    const id = isObject(value) && isId(value.id) ? value.id : null;
    return errorAnswer(id, 'internal_error', `internal error: ${messageOf(error)}`);
  }
}

export function answerOversize(frame: OversizeFrame, maxBytes: number): string {
  return errorAnswer(
    sniffId(frame.head.toString('utf8')),
    'too_large',
    `the line has ${frame.bytes} bytes, more than the limit of ${maxBytes}`,
  );
}

function answerRequest(value: unknown, context: ServeContext): string {
  if (!isObject(value)) {
    return errorAnswer(
      null,
      'invalid_request',
      `a request is a JSON object, like {"tool": "read_file"}, not ${kindOf(value)}`,
    );
  }
  let id: Id = null;
  if (Object.hasOwn(value, 'id')) {
    if (!isId(value.id)) {
      return invalid(
        null,
        `"id" must be a string, a number, a boolean or null, not ${kindOf(value.id)}`,
      );
    }
    id = value.id;
  }
  const op = Object.hasOwn(value, 'op') ? value.op : 'evaluate';
  if (typeof op !== 'string' || !OPS.includes(op)) {
    const shown = typeof op === 'string' ? `"${op}"${didYouMean(op, OPS)}` : kindOf(op);
    return invalid(id, `unknown op ${shown}; the ops are ${OPS.join(', ')}`);
  }
  if (op !== 'evaluate') {
    for (const key of Object.keys(value)) {
      if (key !== 'id' && key !== 'op') return invalid(id, `op "${op}" takes no "${key}"`);
    }
    if (op === 'ping') return JSON.stringify({ id, ok: true });
    return JSON.stringify({ id, ...context.info() });
  }

  for (const key of Object.keys(value)) {
    if (!EVALUATE_KEY_SET.has(key)) {
      return invalid(id, `unknown key "${key}"${didYouMean(key, EVALUATE_KEYS)}`);
    }
  }
  const resource = field(value, 'tool', 'resource', nonEmptyString);
  if (!resource.ok) return invalid(id, resource.problem);
  if (resource.value === undefined) {
    return invalid(id, 'missing "tool": the name of the tool being called');
  }
  const parameters = field(value, 'arguments', 'parameters', argumentsObject);
  if (!parameters.ok) return invalid(id, parameters.problem);
  const actionType = field(value, 'action_type', undefined, nonEmptyString);
  if (!actionType.ok) return invalid(id, actionType.problem);
  const agentId = field(value, 'agent_id', undefined, nonEmptyString);
  if (!agentId.ok) return invalid(id, agentId.problem);
  const server = field(value, 'server', undefined, nonEmptyString);
  if (!server.ok) return invalid(id, server.problem);
  const explain = field(value, 'explain', undefined, boolean);
  if (!explain.ok) return invalid(id, explain.problem);

  const action: Action = {
    actionType: actionType.value ?? 'tool_call',
    resource: resource.value,
    agentId: agentId.value ?? DEFAULT_AGENT_ID,
    parameters: parameters.value ?? {},
    ...(server.value === undefined ? {} : { server: server.value }),
  };
  const engine = context.engine();
  if (explain.value === true) {
    const explanation = engine.explain(action);
    return JSON.stringify({
      id,
      ...decisionJson(explanation.decision),
      trace: explanation.rules.map(traceJson),
    });
  }
  return JSON.stringify({ id, ...decisionJson(engine.evaluate(action)) });
}

type Field<T> =
  | { readonly ok: true; readonly value: T | undefined }
  | { readonly ok: false; readonly problem: string };

/** What a field must be: undefined when it is, else what it is not (`a non-empty string`). */
interface Expected<T> {
  readonly accepts: (value: unknown) => value is T;
  readonly description: string;
}

const nonEmptyString: Expected<string> = {
  accepts: (value): value is string => typeof value === 'string' && value !== '',
  description: 'a non-empty string',
};
const argumentsObject: Expected<Record<string, unknown>> = {
  accepts: isObject,
  description: 'a JSON object of arguments',
};
const boolean: Expected<boolean> = {
  accepts: (value): value is boolean => typeof value === 'boolean',
  description: 'true or false',
};

/**
 * A request field, absent or as `expected`. `alias` is the same field under its other name
 * (`resource` for `tool`, `parameters` for `arguments`: the MCP and the policy words), so a
 * request gives at most one of the two.
 */
function field<T>(
  request: Record<string, unknown>,
  name: string,
  alias: string | undefined,
  expected: Expected<T>,
): Field<T> {
  const hasName = Object.hasOwn(request, name);
  const hasAlias = alias !== undefined && Object.hasOwn(request, alias);
  if (hasName && hasAlias) {
    return { ok: false, problem: `"${name}" and "${alias}" are the same field: give one of them` };
  }
  if (!hasName && !hasAlias) return { ok: true, value: undefined };
  const key = hasName ? name : (alias as string);
  const value = request[key];
  if (expected.accepts(value)) return { ok: true, value };
  return { ok: false, problem: `"${key}" must be ${expected.description}, not ${kindOf(value)}` };
}

function invalid(id: Id, message: string): string {
  return errorAnswer(id, 'invalid_request', message);
}

function errorAnswer(id: Id, code: ServeErrorCode, message: string): string {
  return JSON.stringify({ id, error: { code, message } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is Id {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True past MAX_NESTING_DEPTH open brackets, strings skipped; the text may be invalid JSON. */
function nestsTooDeep(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === BACKSLASH) i++;
        else if (inner === QUOTE) break;
      }
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > MAX_NESTING_DEPTH) return true;
    } else if ((code === 0x7d || code === 0x5d) && depth > 0) {
      depth--;
    }
  }
  return false;
}

// `"id"`, `:`, then a safe integer or a short string without escapes.
const ID_PATTERN =
  /"id"[ \t\r\n]*:[ \t\r\n]*(?:(-?(?:0|[1-9][0-9]{0,15}))(?![0-9.eE])|"([^"\\]{0,256})")/g;

/**
 * The `id` of a line that could not be read as a request, when exactly one candidate shows:
 * only to address the error answer, so a nested `"id"` makes it null rather than a guess.
 */
function sniffId(text: string): Id {
  let found: Id | undefined;
  for (const match of text.matchAll(ID_PATTERN)) {
    const id = match[1] === undefined ? (match[2] as string) : Number(match[1]);
    if (typeof id === 'number' ? !Number.isSafeInteger(id) : !isPlainString(id)) continue;
    if (found !== undefined && found !== id) return null;
    found = id;
  }
  return found ?? null;
}

/** No control character (invalid in a JSON string) and no U+FFFD (from undecodable bytes). */
function isPlainString(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0xfffd) return false;
  }
  return true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
