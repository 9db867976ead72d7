/**
 * The top level of a large message, read from its bytes without parsing the rest. A server's
 * 5 MB tool result is relayed as the bytes it came in as; parsing it would only cost time and
 * memory, since nobody decides anything on its content. Anything unusual returns undefined and
 * the message takes the full, strict path.
 */

import { LineParts } from './line-parts.js';

export interface Envelope {
  /** Top-level keys, in order. */
  readonly keys: readonly string[];
  /** The parsed values of the small members the proxy routes on. */
  readonly members: Readonly<Record<'jsonrpc' | 'id' | 'method', unknown>>;
  /**
   * Whether `result` is an object whose own `isError` member is `true` (a tool's failure, which
   * the audit records); read on the way through `result`, without parsing it.
   */
  readonly resultIsError: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Members longer than this are not routing data: their message takes the full path. */
const SMALL = 1024;
const ROUTED = new Set(['jsonrpc', 'id', 'method']);

/**
 * Reads the envelope of one JSON object text, or undefined if it is not simply one. The text may
 * be in parts, as it was read (`LineParts`): nothing is joined.
 */
export function readEnvelope(text: Buffer | LineParts, maxDepth: number): Envelope | undefined {
  const bytes = text instanceof LineParts ? text : new LineParts([text]);
  const keys: string[] = [];
  const members: Record<string, unknown> = { jsonrpc: undefined, id: undefined, method: undefined };
  let resultIsError = false;
  const start = skipSpace(bytes, 0);
  const end = walkObject(bytes, start, maxDepth, (key, valueStart) => {
    if (keys.includes(key)) return -1;
    keys.push(key);
    if (key === 'result' && bytes.at(valueStart) === OPEN_BRACE) {
      // Its members instead of a skip over it: the same bytes, read once.
      return walkObject(bytes, valueStart, maxDepth - 1, (member, memberStart) => {
        const memberEnd = skipValue(bytes, memberStart, maxDepth - 2);
        // The last one counts, as for the JSON.parse of the client that gets these bytes.
        if (member === 'isError' && memberEnd > 0) {
          resultIsError =
            memberEnd - memberStart === 4 &&
            bytes.toString('latin1', memberStart, memberEnd) === 'true';
        }
        return memberEnd;
      });
    }
    const valueEnd = skipValue(bytes, valueStart, maxDepth - 1);
    if (valueEnd > 0 && ROUTED.has(key)) {
      if (valueEnd - valueStart > SMALL) return -1;
      const value = parseSmall(bytes, valueStart, valueEnd);
      if (value === INVALID) return -1;
      members[key] = value;
    }
    return valueEnd;
  });
  if (end < 0 || keys.length === 0 || skipSpace(bytes, end) !== bytes.length) return undefined;
  return { keys, members: members as Envelope['members'], resultIsError };
}

/**
 * Walks the object starting at `index` (on its `{`): `visit` gets each key and where its value
 * starts, and returns where the value ends (-1 to give up). The index after the `}`, or -1.
 */
function walkObject(
  bytes: LineParts,
  index: number,
  maxDepth: number,
  visit: (key: string, valueStart: number) => number,
): number {
  if (bytes.at(index) !== OPEN_BRACE || maxDepth < 1) return -1;
  let at = skipSpace(bytes, index + 1);
  if (bytes.at(at) === CLOSE_BRACE) return at + 1;
  for (;;) {
    if (bytes.at(at) !== QUOTE) return -1;
    const keyEnd = stringEnd(bytes, at);
    if (keyEnd < 0 || keyEnd - at > SMALL) return -1;
    const key = parseSmall(bytes, at, keyEnd);
    if (typeof key !== 'string') return -1;
    at = skipSpace(bytes, keyEnd);
    if (bytes.at(at) !== COLON) return -1;
    const valueStart = skipSpace(bytes, at + 1);
    const valueEnd = visit(key, valueStart);
    if (valueEnd < 0 || valueEnd === valueStart) return -1;
    at = skipSpace(bytes, valueEnd);
    if (bytes.at(at) === COMMA) {
      at = skipSpace(bytes, at + 1);
      continue;
    }
    return bytes.at(at) === CLOSE_BRACE ? at + 1 : -1;
  }
}

const INVALID = Symbol('invalid');

function parseSmall(bytes: LineParts, start: number, end: number): unknown {
  try {
    return JSON.parse(bytes.toString('utf8', start, end));
  } catch {
    return INVALID;
  }
}

function skipSpace(bytes: LineParts, index: number): number {
  let at = index;
  for (;;) {
    const byte = bytes.at(at);
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return at;
    at++;
  }
}

/** `index` is on an opening quote: the index after its closing quote, or -1. */
function stringEnd(bytes: LineParts, index: number): number {
  let from = index + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (bytes.at(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * The index after the value starting at `index`, or -1 if brackets do not balance or nest
 * deeper than `maxDepth`. Strings are jumped over; tokens are not checked (the client that
 * receives the bytes parses them).
 */
function skipValue(bytes: LineParts, index: number, maxDepth: number): number {
  let depth = 0;
  let at = index;
  const length = bytes.length;
  scan: while (at < length) {
    // Bytes outside strings are visited one by one: read them from their part directly.
    const partIndex = bytes.partIndexOf(at);
    const part = bytes.parts[partIndex] as Buffer;
    const partStart = bytes.startOf(partIndex);
    const partEnd = partStart + part.length;
    while (at < partEnd) {
      const byte = part[at - partStart] as number;
      if (byte === QUOTE) {
        // Mostly a string that ends in this part, with no backslash before its closing quote.
        const close = part.indexOf(QUOTE, at - partStart + 1);
        if (close !== -1 && part[close - 1] !== BACKSLASH) at = partStart + close + 1;
        else at = stringEnd(bytes, at);
        if (at < 0) return -1;
        if (depth === 0) return at;
        if (at < partEnd) continue;
        continue scan;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth++;
        if (depth > maxDepth) return -1;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (depth === 0) return at;
        depth--;
        if (depth === 0) return at + 1;
      } else if (
        depth === 0 &&
        (byte === COMMA || byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09)
      ) {
        return at;
      }
      at++;
    }
  }
  return depth === 0 ? at : -1;
}
