/**
 * Which MCP requests the engine decides, and how each becomes an action. `tools/call` is always
 * decided. The other kinds are decided when the policy names their action type (so Rust-era
 * policies, which never do, keep forwarding them as before) or under `--strict`.
 */
import { caseVariantOf, describeType, isJsonObject, type JsonObject } from './messages.js';

/** Who sends a request of this kind. */
export type Direction = 'client' | 'server';

/** An MCP request the engine can decide, and the action type the policy sees it as. */
export interface ActionKind {
  readonly method: string;
  readonly actionType: string;
  readonly from: Direction;
}

/** The action type of `tools/call`, the default of `match_on.action_types`. */
export const TOOL_CALL = 'tool_call';

/** Every kind of request the proxy can decide, by MCP method. */
export const ACTION_KINDS: readonly ActionKind[] = [
  { method: 'tools/call', actionType: TOOL_CALL, from: 'client' },
  { method: 'resources/read', actionType: 'resource_read', from: 'client' },
  { method: 'prompts/get', actionType: 'prompt_get', from: 'client' },
  { method: 'sampling/createMessage', actionType: 'sampling', from: 'server' },
  { method: 'elicitation/create', actionType: 'elicitation', from: 'server' },
  { method: 'roots/list', actionType: 'roots_list', from: 'server' },
];

const KIND_BY_METHOD = new Map(ACTION_KINDS.map((kind) => [kind.method, kind]));

export function kindOf(method: string, from: Direction): ActionKind | undefined {
  const kind = KIND_BY_METHOD.get(method);
  return kind?.from === from ? kind : undefined;
}

/**
 * Methods of the MCP specification (2025-11-25) each side may send. A request outside these is
 * refused rather than forwarded: the proxy cannot tell what it would do. Notifications outside
 * them are dropped.
 */
const CLIENT_REQUESTS = new Set([
  'initialize',
  'ping',
  'completion/complete',
  'logging/setLevel',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'tools/call',
  'tools/list',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);
const CLIENT_NOTIFICATIONS = new Set([
  'notifications/cancelled',
  'notifications/progress',
  'notifications/initialized',
  'notifications/roots/list_changed',
  'notifications/tasks/status',
]);
const SERVER_REQUESTS = new Set([
  'ping',
  'sampling/createMessage',
  'roots/list',
  'elicitation/create',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);
const SERVER_NOTIFICATIONS = new Set([
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/resources/updated',
  'notifications/resources/list_changed',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/elicitation/complete',
  'notifications/tasks/status',
]);

export function isKnownRequest(method: string, from: Direction): boolean {
  return (from === 'client' ? CLIENT_REQUESTS : SERVER_REQUESTS).has(method);
}

export function isKnownNotification(method: string, from: Direction): boolean {
  return (from === 'client' ? CLIENT_NOTIFICATIONS : SERVER_NOTIFICATIONS).has(method);
}

/** What the engine is asked about, and the params to forward if it allows. */
export interface Subject {
  readonly resource: string;
  readonly parameters: JsonObject;
  /** Exactly the params the engine saw, rebuilt: this, not the received text, is forwarded. */
  readonly params: JsonObject;
}

export type SubjectResult =
  | { readonly ok: true; readonly subject: Subject }
  | { readonly ok: false; readonly reason: string };

const TOOL_CALL_KEYS = new Set(['name', 'arguments', '_meta', 'task']);
const RESOURCE_READ_KEYS = new Set(['uri', '_meta']);
const PROMPT_GET_KEYS = new Set(['name', 'arguments', '_meta']);

/** Reads the subject of a decided request from its params, strictly. */
export function subjectOf(kind: ActionKind, params: JsonObject | undefined): SubjectResult {
  switch (kind.method) {
    case 'tools/call':
      return named(params, TOOL_CALL_KEYS, 'name', 'arguments', 'tools/call');
    case 'prompts/get':
      return named(params, PROMPT_GET_KEYS, 'name', 'arguments', 'prompts/get');
    case 'resources/read': {
      const keys = checkKeys(params, RESOURCE_READ_KEYS, 'resources/read');
      if (keys !== undefined) return { ok: false, reason: keys };
      const uri = params?.uri;
      if (typeof uri !== 'string') {
        return {
          ok: false,
          reason: `resources/read 'uri' must be a string, not ${describeType(uri)}`,
        };
      }
      return { ok: true, subject: { resource: uri, parameters: { uri }, params: { ...params } } };
    }
    default: {
      // Server-to-client requests: their params evolve with the spec, so the engine sees them
      // whole (without `_meta`) and the parsed params are forwarded as they were evaluated.
      const all = params ?? {};
      const { _meta: _ignored, ...parameters } = all;
      const unreadable = unreadableIn(parameters, 0);
      if (unreadable !== undefined)
        return { ok: false, reason: `${kind.method} params ${unreadable}` };
      return { ok: true, subject: { resource: kind.method, parameters, params: { ...all } } };
    }
  }
}

function checkKeys(
  params: JsonObject | undefined,
  allowed: ReadonlySet<string>,
  method: string,
): string | undefined {
  if (params === undefined) return undefined;
  for (const key of Object.keys(params)) {
    const variant = caseVariantOf(key, allowed);
    if (variant !== undefined)
      return `${method} key '${key}' differs from '${variant}' only by case`;
    if (!allowed.has(key)) return `unexpected key '${key}' in ${method} params`;
  }
  for (const key of ['_meta', 'task']) {
    if (Object.hasOwn(params, key) && !isJsonObject(params[key])) {
      return `${method} '${key}' must be an object, not ${describeType(params[key])}`;
    }
  }
  return undefined;
}

function named(
  params: JsonObject | undefined,
  allowed: ReadonlySet<string>,
  nameKey: string,
  argumentsKey: string,
  method: string,
): SubjectResult {
  if (params === undefined) return { ok: false, reason: `${method} needs params` };
  const keys = checkKeys(params, allowed, method);
  if (keys !== undefined) return { ok: false, reason: keys };
  const name = params[nameKey];
  if (typeof name !== 'string') {
    return {
      ok: false,
      reason: `${method} '${nameKey}' must be a string, not ${describeType(name)}`,
    };
  }
  let parameters: JsonObject = {};
  if (Object.hasOwn(params, argumentsKey)) {
    const value = params[argumentsKey];
    if (!isJsonObject(value)) {
      return {
        ok: false,
        reason: `${method} '${argumentsKey}' must be an object, not ${describeType(value)}`,
      };
    }
    parameters = value;
    const unreadable = unreadableIn(parameters, 0);
    if (unreadable !== undefined)
      return { ok: false, reason: `${method} '${argumentsKey}' ${unreadable}` };
  }
  // Rebuilt from the validated parts, key by key: nothing the engine did not look at rides along.
  const rebuilt: JsonObject = { [nameKey]: name };
  if (Object.hasOwn(params, argumentsKey)) rebuilt[argumentsKey] = parameters;
  for (const key of ['_meta', 'task']) {
    if (Object.hasOwn(params, key)) rebuilt[key] = params[key];
  }
  return { ok: true, subject: { resource: name, parameters, params: rebuilt } };
}

/**
 * Why the engine cannot read a parsed value as the server will, or undefined. Two cases, at any
 * depth (bounded by framing):
 * - a number too large for a double: `1e400` parses to Infinity, which the engine would compare
 *   as such and `JSON.stringify` would forward as null;
 * - two keys of one object that differ only by case (`command` and `Command`): servers that read
 *   JSON keys ignoring case (Go's `encoding/json`, .NET's web defaults) take one or the other,
 *   whichever comes last, while a rule checked the one it names.
 */
function unreadableIn(value: unknown, depth: number): string | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value)
      ? undefined
      : 'hold a number too large for a double (such as 1e400)';
  }
  if (typeof value !== 'object' || value === null || depth > 512) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = unreadableIn(item, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  let foldable = false;
  let keys = 0;
  for (const key in value) {
    keys += 1;
    if (!foldable && FOLDABLE.test(key)) foldable = true;
    const found = unreadableIn((value as Record<string, unknown>)[key], depth + 1);
    if (found !== undefined) return found;
  }
  return foldable && keys > 1 ? caseVariantPair(value as Record<string, unknown>) : undefined;
}

/**
 * A character a case-insensitive reader may fold to another: an upper-case ASCII letter, or
 * anything outside ASCII (the Kelvin sign reads as `k`, the long s as `s`). Keys without one,
 * which most are, fold to themselves and need no comparing.
 */
const FOLDABLE = /[A-Z\u0080-\uffff]/;

/** Two keys of `object` that fold alike, described; undefined when there are none. */
function caseVariantPair(object: Record<string, unknown>): string | undefined {
  const seen = new Map<string, string>();
  for (const key of Object.keys(object)) {
    // Upper then lower: the long s (`ſ`) folds to `s` only that way round.
    const folded = key.toUpperCase().toLowerCase();
    const first = seen.get(folded);
    if (first !== undefined) {
      return `hold keys '${clipped(first)}' and '${clipped(key)}', which differ only by case`;
    }
    seen.set(folded, key);
  }
  return undefined;
}

/** A key as a reason quotes it: the agent chose it, so at most 64 characters of it. */
function clipped(key: string): string {
  return key.length > 64 ? `${key.slice(0, 64)}…` : key;
}
