/**
 * Argument keys whose values are secrets. A key and a pattern are both split into lower-case
 * words (at `_`, `-`, `.`, spaces and any other non-alphanumeric character, at camelCase humps,
 * between an acronym and the next word, and between letters and digits); a key matches when the
 * pattern's words appear in it as a contiguous run. So `api_key` matches `apiKey`, `X-API-Key`
 * and `OPENAI_API_KEY`, and `auth` matches `x-auth-token` but not `author`.
 */
export const DEFAULT_REDACTED_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'api_key',
  'apikey',
  'access_key',
  'private_key',
  'privatekey',
  'authorization',
  'auth',
  'cookie',
  'session',
  'credential',
  'credentials',
  'bearer',
];

const WORD = /\p{Lu}+(?!\p{Ll})|\p{Lu}?[\p{Ll}\p{Lt}\p{Lm}\p{Lo}]+|\p{N}+/gu;

/** The lower-case words of a key or pattern. */
export function keyWords(key: string): readonly string[] {
  return Array.from(key.matchAll(WORD), (match) => match[0].toLowerCase());
}

/** Compiles patterns once; the returned function names the first pattern a key matches. */
export function createKeyMatcher(patterns: readonly string[]): (key: string) => string | undefined {
  const compiled = patterns
    .map((pattern) => ({ pattern, words: keyWords(pattern) }))
    .filter(({ words }) => words.length > 0);
  // Keys repeat across calls (the same tools, the same arguments); remember the answers, within
  // a bound so a client cannot grow the cache without limit.
  const cache = new Map<string, string | null>();
  return (key) => {
    const cached = cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const words = keyWords(key);
    const found = compiled.find((entry) => containsRun(words, entry.words))?.pattern;
    if (cache.size < 10_000) cache.set(key, found ?? null);
    return found;
  };
}

function containsRun(words: readonly string[], run: readonly string[]): boolean {
  for (let start = 0; start + run.length <= words.length; start++) {
    if (run.every((word, offset) => words[start + offset] === word)) return true;
  }
  return false;
}
