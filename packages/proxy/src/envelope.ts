/**
 * The top level of a large message, read from its bytes without parsing the rest. A server's
 * 5 MB tool result is relayed as the bytes it came in as; parsing it would only cost time and
 * memory, since nobody decides anything on its content. Anything unusual returns undefined and
 * the message takes the full, strict path.
 */

export interface Envelope {
  /** Top-level keys, in order. */
  readonly keys: readonly string[];
  /** The parsed values of the small members the proxy routes on. */
  readonly members: Readonly<Record<'jsonrpc' | 'id' | 'method', unknown>>;
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

/** Reads the envelope of one JSON object text, or undefined if it is not simply one. */
export function readEnvelope(bytes: Buffer, maxDepth: number): Envelope | undefined {
  let index = skipSpace(bytes, 0);
  if (bytes[index] !== OPEN_BRACE) return undefined;
  index = skipSpace(bytes, index + 1);
  const keys: string[] = [];
  const members: Record<string, unknown> = { jsonrpc: undefined, id: undefined, method: undefined };
  if (bytes[index] === CLOSE_BRACE) return undefined;
  for (;;) {
    if (bytes[index] !== QUOTE) return undefined;
    const keyEnd = stringEnd(bytes, index);
    if (keyEnd < 0 || keyEnd - index > SMALL) return undefined;
    const key = parseSmall(bytes, index, keyEnd);
    if (typeof key !== 'string' || keys.includes(key)) return undefined;
    keys.push(key);
    index = skipSpace(bytes, keyEnd);
    if (bytes[index] !== COLON) return undefined;
    const valueStart = skipSpace(bytes, index + 1);
    const valueEnd = skipValue(bytes, valueStart, maxDepth - 1);
    if (valueEnd < 0 || valueEnd === valueStart) return undefined;
    if (ROUTED.has(key)) {
      if (valueEnd - valueStart > SMALL) return undefined;
      const value = parseSmall(bytes, valueStart, valueEnd);
      if (value === INVALID) return undefined;
      members[key] = value;
    }
    index = skipSpace(bytes, valueEnd);
    if (bytes[index] === COMMA) {
      index = skipSpace(bytes, index + 1);
      continue;
    }
    if (bytes[index] !== CLOSE_BRACE) return undefined;
    return skipSpace(bytes, index + 1) === bytes.length
      ? { keys, members: members as Envelope['members'] }
      : undefined;
  }
}

const INVALID = Symbol('invalid');

function parseSmall(bytes: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(bytes.toString('utf8', start, end));
  } catch {
    return INVALID;
  }
}

function skipSpace(bytes: Buffer, index: number): number {
  let at = index;
  for (;;) {
    const byte = bytes[at];
    if (byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09) return at;
    at++;
  }
}

/** `index` is on an opening quote: the index after its closing quote, or -1. */
function stringEnd(bytes: Buffer, index: number): number {
  let from = index + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, from);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/**
 * The index after the value starting at `index`, or -1 if brackets do not balance or nest
 * deeper than `maxDepth`. Strings are jumped over; tokens are not checked (the client that
 * receives the bytes parses them).
 */
function skipValue(bytes: Buffer, index: number, maxDepth: number): number {
  let depth = 0;
  let at = index;
  const length = bytes.length;
  while (at < length) {
    const byte = bytes[at] as number;
    if (byte === QUOTE) {
      at = stringEnd(bytes, at);
      if (at < 0) return -1;
      if (depth === 0) return at;
      continue;
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
  return depth === 0 ? at : -1;
}
