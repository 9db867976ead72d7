/**
 * JSON helpers that treat every key as plain data: `__proto__`, `constructor` and `toString` are
 * ordinary argument names, so lookups go through own properties only.
 */

export type JsonObject = { readonly [key: string]: unknown };

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasOwn(object: JsonObject, key: string): boolean {
  return Object.hasOwn(object, key);
}

/** The own property `key`, or `undefined` when there is none (inherited ones do not count). */
export function getOwn(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Type-strict JSON equality: `"1"` is not `1`, objects compare by own keys in any order. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEquals(item, b[index]));
  }
  if (Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  const bObject = b as JsonObject;
  return aKeys.every(
    (key) => hasOwn(bObject, key) && jsonEquals((a as JsonObject)[key], bObject[key]),
  );
}

function byCodePoint(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    const diff = left[i]!.codePointAt(0)! - right[i]!.codePointAt(0)!;
    if (diff !== 0) return diff;
  }
  return left.length - right.length;
}

/**
 * Compact JSON with object keys sorted by code point: the text the Rust Kvlar (serde_json
 * without `preserve_order`) matched `parameters` regexes against for non-string values.
 */
export function compactJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((key) => `${JSON.stringify(key)}:${compactJson(value[key])}`).join(',')}}`;
  }
  // JSON has no undefined; an undefined inside an array or object reads as null, as serde would.
  return JSON.stringify(value) ?? 'null';
}
