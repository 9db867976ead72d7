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
  return write(value, 0);
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

function invalid(what: string): AuditError {
  return new AuditError('invalid_input', `an audit record cannot hold ${what}`);
}
