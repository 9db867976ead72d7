/**
 * Reading one JSON-RPC message strictly. What the proxy cannot classify with certainty it
 * rejects: a key a server might read differently (a duplicate, or `Method` beside `method`), an
 * id that is not a string or a number, params that are not an object.
 */
import type { DuplicateKey } from './framing.js';
import { ErrorCode, type JsonRpcId, type WireErrorCode } from './wire.js';

export type JsonObject = Record<string, unknown>;

export type Message =
  | {
      readonly kind: 'request';
      readonly id: JsonRpcId;
      readonly method: string;
      readonly params: JsonObject | undefined;
      readonly message: JsonObject;
    }
  | {
      readonly kind: 'notification';
      readonly method: string;
      readonly params: JsonObject | undefined;
      readonly message: JsonObject;
    }
  | { readonly kind: 'response'; readonly id: JsonRpcId; readonly message: JsonObject }
  | {
      readonly kind: 'invalid';
      /** The request's id when it could be read: an answer then goes to it. */
      readonly id: JsonRpcId | null;
      /** The method when it could be read, for the report and the audit. */
      readonly method?: string;
      readonly code: WireErrorCode;
      readonly reason: string;
    };

const ENVELOPE_KEYS = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isRequestId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** A key that is not `expected` but equals it ignoring case: what a lenient server might read. */
export function caseVariantOf(key: string, expected: ReadonlySet<string>): string | undefined {
  if (expected.has(key)) return undefined;
  return lowerCased(expected).get(key.toLowerCase());
}

/** Each key set's names by their lower-case form, built once: this runs for every message. */
const lowerCaseNames = new WeakMap<ReadonlySet<string>, ReadonlyMap<string, string>>();

function lowerCased(names: ReadonlySet<string>): ReadonlyMap<string, string> {
  let map = lowerCaseNames.get(names);
  if (map === undefined) {
    map = new Map([...names].map((name) => [name.toLowerCase(), name]));
    lowerCaseNames.set(names, map);
  }
  return map;
}

function describeDuplicates(duplicates: readonly DuplicateKey[]): string {
  const [first] = duplicates;
  if (first === undefined) return '';
  const at = first.path.length === 0 ? 'the message' : `'${first.path.join('.')}'`;
  return `duplicate key '${first.key}' in ${at}`;
}

/**
 * Classifies one message (not a batch). `duplicateKeys` are what the framing saw in its text;
 * a message that arrived as an object (an in-memory transport) has none.
 */
export function readMessage(value: unknown, duplicateKeys: readonly DuplicateKey[]): Message {
  if (!isJsonObject(value)) {
    return {
      kind: 'invalid',
      id: null,
      code: ErrorCode.invalidRequest,
      reason: `a JSON-RPC message must be an object, not ${describeType(value)}`,
    };
  }
  const id = Object.hasOwn(value, 'id') && isRequestId(value.id) ? value.id : null;
  const method =
    Object.hasOwn(value, 'method') && typeof value.method === 'string' ? value.method : undefined;
  const invalid = (code: WireErrorCode, reason: string): Message => ({
    kind: 'invalid',
    id,
    ...(method === undefined ? {} : { method }),
    code,
    reason,
  });
  for (const key of Object.keys(value)) {
    // The usual keys, answered without a lookup: this runs for every message.
    switch (key) {
      case 'jsonrpc':
      case 'id':
      case 'method':
      case 'params':
      case 'result':
      case 'error':
        continue;
    }
    const variant = caseVariantOf(key, ENVELOPE_KEYS);
    if (variant !== undefined) {
      return invalid(
        ErrorCode.invalidRequest,
        `key '${key}' differs from '${variant}' only by case`,
      );
    }
    if (!ENVELOPE_KEYS.has(key)) {
      return invalid(ErrorCode.invalidRequest, `unexpected key '${key}' in a JSON-RPC message`);
    }
  }
  if (duplicateKeys.length > 0) {
    const inParams = duplicateKeys.some((duplicate) => duplicate.path[0] === 'params');
    const code = inParams ? ErrorCode.invalidParams : ErrorCode.invalidRequest;
    return invalid(code, describeDuplicates(duplicateKeys));
  }
  if (value.jsonrpc !== '2.0') {
    return invalid(ErrorCode.invalidRequest, `'jsonrpc' must be "2.0"`);
  }
  const hasId = Object.hasOwn(value, 'id');
  if (hasId && !isRequestId(value.id)) {
    return invalid(ErrorCode.invalidRequest, `'id' must be a string or a number`);
  }
  if (
    typeof value.id === 'number' &&
    Number.isInteger(value.id) &&
    !Number.isSafeInteger(value.id)
  ) {
    // Parsed as a double, it is already rounded: forwarded, its answer would carry another id.
    return {
      kind: 'invalid',
      id: null,
      ...(method === undefined ? {} : { method }),
      code: ErrorCode.invalidRequest,
      reason: `the id ${value.id} is beyond 2^53 and cannot be relayed exactly; use a string id`,
    };
  }
  if (Object.hasOwn(value, 'method')) {
    if (method === undefined) return invalid(ErrorCode.invalidRequest, `'method' must be a string`);
    if (Object.hasOwn(value, 'result') || Object.hasOwn(value, 'error')) {
      return invalid(ErrorCode.invalidRequest, 'a request cannot carry a result or an error');
    }
    let params: JsonObject | undefined;
    if (Object.hasOwn(value, 'params')) {
      if (!isJsonObject(value.params)) {
        return invalid(ErrorCode.invalidParams, `'params' must be an object`);
      }
      params = value.params;
    }
    return hasId && id !== null
      ? { kind: 'request', id, method, params, message: value }
      : { kind: 'notification', method, params, message: value };
  }
  if (!hasId || id === null) {
    return invalid(ErrorCode.invalidRequest, `a message needs a 'method' or an 'id'`);
  }
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  if (hasResult === hasError) {
    return invalid(
      ErrorCode.invalidRequest,
      `a response carries exactly one of 'result' and 'error'`,
    );
  }
  if (Object.hasOwn(value, 'params')) {
    return invalid(ErrorCode.invalidRequest, `a response cannot carry 'params'`);
  }
  if (hasError && !isJsonObject(value.error)) {
    return invalid(ErrorCode.invalidRequest, `'error' must be an object`);
  }
  return { kind: 'response', id, message: value };
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
