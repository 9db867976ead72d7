/**
 * Values that look like secrets. Each pattern is linear-time safe: no nested quantifiers, every
 * repetition bounded, and a match can only start where a token starts (a look-behind for the
 * token's own characters), so runs of token characters are scanned a bounded number of times.
 * A named group `secret`, when present, is the only part replaced (so `Bearer `, a URL's scheme,
 * user and host stay readable in the audit record).
 */
export interface SecretPattern {
  /** Goes into the marker: `[REDACTED:<kind>]`. */
  readonly kind: string;
  readonly pattern: RegExp;
  /**
   * Text every match contains, when the pattern cannot start with it: a string without it is
   * not searched at all (the URL pattern would otherwise try a scheme at every letter).
   */
  readonly contains?: string;
}

export const DEFAULT_SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    kind: 'private_key',
    // The body is anything up to the next run of five dashes, so a missing END still redacts.
    pattern:
      /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----)){0,65536}(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/,
  },
  {
    kind: 'jwt',
    pattern:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{2,8192}\.[A-Za-z0-9_-]{0,4096}/,
  },
  { kind: 'aws_access_key_id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/ },
  {
    kind: 'github_token',
    pattern: /(?<![A-Za-z0-9_])(?:gh[opsur]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})/,
  },
  { kind: 'slack_token', pattern: /(?<![A-Za-z0-9_])xox[abeoprs]-[A-Za-z0-9-]{10,250}/ },
  { kind: 'stripe_key', pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}/ },
  { kind: 'google_api_key', pattern: /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}/ },
  {
    kind: 'bearer_token',
    pattern:
      /(?<![A-Za-z0-9_])(?:Bearer|bearer|BEARER)[ \t]{1,16}(?<secret>[A-Za-z0-9._~+/=-]{16,4096})/,
  },
  {
    kind: 'url_credentials',
    contains: '://',
    pattern:
      /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#@:]{1,256}:(?<secret>[^\s/?#@]{1,256})@/,
  },
  {
    kind: 'assigned_secret',
    // `PGPASSWORD=…`, `--api-key=…`, `"secret": "…"` inside a command or a config text.
    pattern:
      /(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)["']?[ \t]{0,4}[=:][ \t]{0,4}["']?(?<secret>[^\s'"&;,]{1,256})/i,
  },
];
