import { AuditError } from './errors.js';

/** Deeper than this is a cycle or an attack, not an audit record. */
const MAX_DEPTH = 256;

/**
 * The canonical JSON text of a JSON value, the input of every audit hash: object keys sorted by
 * UTF-16 code units, no whitespace, strings and numbers as `JSON.stringify` writes them. For the
 * values audit records hold this is RFC 8785 (JCS). Members whose value is `undefined` are left
 * out, as `JSON.stringify` does; anything else JSON cannot hold throws `invalid_input`, so a hash
 * never covers a value that would read back differently.
 */
export function canonicalJson(value: unknown): string {
  // The fast way: a copy with every object's keys inserted in sorted order, written by the native
  // JSON.stringify. Objects with integer-like keys ("10", "9") defeat it, since JavaScript lists
  // those first in numeric order; they take the slower writer below.
  try {
    return JSON.stringify(sortedCopy(value, 0));
  } catch (error) {
    if (error !== INTEGER_KEY) throw error;
    return write(value, 0);
  }
}

/** Throws `invalid_input` as `canonicalJson` would for a value JSON cannot hold; allocates nothing. */
export function assertJson(value: unknown, depth = 0): void {
  if (value === null) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`the number ${value}`);
      return;
    case 'object':
      break;
    default:
      throw invalid(`a ${typeof value}`);
  }
  if (depth >= MAX_DEPTH) throw invalid(`a value nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === undefined) throw invalid('undefined in an array');
      assertJson(item, depth + 1);
    }
    return;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw invalid('a non-plain object');
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const member = (value as Readonly<Record<string, unknown>>)[key];
    if (member !== undefined) assertJson(member, depth + 1);
  }
}

const INTEGER_KEY = Symbol('integer-like key');
const INTEGER_LIKE = /^(?:0|[1-9][0-9]*)$/;

function sortedCopy(value: unknown, depth: number): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`the number ${value}`);
      return value;
    case 'object':
      break;
    default:
      throw invalid(`a ${typeof value}`);
  }
  if (depth >= MAX_DEPTH) throw invalid(`a value nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (item === undefined) throw invalid('undefined in an array');
      items[index] = sortedCopy(item, depth + 1);
    }
    return items;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw invalid('a non-plain object');
  const record = value as Readonly<Record<string, unknown>>;
  // A null prototype: `__proto__` is then an ordinary key, as it is in the input.
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    if (INTEGER_LIKE.test(key)) throw INTEGER_KEY;
    copy[key] = sortedCopy(member, depth + 1);
  }
  return copy;
}

function write(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw invalid(`the number ${value}`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw invalid(`a ${typeof value}`);
  }
  if (depth >= MAX_DEPTH) throw invalid(`a value nested more than ${MAX_DEPTH} levels deep`);
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => {
      if (item === undefined) throw invalid('undefined in an array');
      return write(item, depth + 1);
    });
    return `[${items.join(',')}]`;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw invalid('a non-plain object');
  const record = value as Readonly<Record<string, unknown>>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${write(member, depth + 1)}`);
  }
  return `{${members.join(',')}}`;
}

export function invalid(what: string): AuditError {
  return new AuditError('invalid_input', `an audit record cannot hold ${what}`);
}
