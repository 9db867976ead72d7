/**
 * Values that look like secrets. Each pattern is linear-time safe: every repetition bounded, no
 * repetition inside a repetition but a private key's lines (each starts at a line break that no
 * character of a line matches, so the text fixes where a line ends: nothing is searched for), and
 * a match can only start where a token starts (a look-behind for the token's own characters), so
 * runs of token characters are scanned a bounded number of times.
 * A named group `secret`, when present, is the only part replaced (so `Bearer `, a URL's scheme,
 * user and host stay readable in the audit record).
 *
 * A pattern takes only text shaped like its secret: never a quote, `$`, a backtick, `;`, `&`,
 * `|`, `<`, `>`, nor (but inside single quotes) `(`, `)`, `{`, `}`; whitespace and `\` only as
 * the line breaks of a key and in its header lines; and never a line that is not shaped like a
 * line of a key. What the agent sends is shown to the approver and written to the audit log with
 * the marker in place of the secret: a pattern that took more would let the agent hide a command
 * there (docs/audit.md#by-value).
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

/** Base64's letters; `=` only pads the end of a line. */
const BASE64 = '[A-Za-z0-9+/]';
/**
 * A line break as written, after trailing blanks and before the next line's indentation (a YAML
 * block, a heredoc), or as the two characters `\n` (`\r\n`) of a key inside JSON text, a .env
 * value or `echo -e`.
 */
const BREAK = String.raw`(?:[ \t]{0,32}\r?\n[ \t]{0,32}|\\(?:r\\)?n)`;
const LABEL = '[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----';
/** RFC 1421's headers of an encrypted PKCS#1 key, and OpenPGP armor's: whole lines only. */
const HEADER = `(?:Proc-Type|DEK-Info|Version|Comment): [A-Za-z0-9 ,.:/@_+=-]{1,128}(?=${BREAK})`;
/**
 * A whole line of a key: 64 characters (PEM, OpenPGP), 70 (OpenSSH), or more when the body is
 * not wrapped; never the start of a longer line (`…${IFS}…`). A shorter line is taken only as the
 * last line before an END line: without one, `reboot` on the line after a BEGIN line would be
 * base64 too.
 */
const KEY_LINE = `${BASE64}{64,16384}={0,2}(?=${BREAK}|-----END|$)`;
const LAST_LINE = `${BASE64}{0,63}={0,2}`;
/** OpenPGP's CRC-24 line. */
const CHECKSUM = `=${BASE64}{4}`;
const KEY_LINES = `${BREAK}?${KEY_LINE}(?:${BREAK}${KEY_LINE}){0,1023}`;

/** Names that announce a secret after `=` or `:` (`PGPASSWORD=`, `--api-key=`, `"secret":`). */
const SECRET_NAME = '(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token)';
/** Characters a secret written after `=` or `:` may hold: none that starts shell syntax. */
const PLAIN = String.raw`[^\s'"\`$\\;&|<>(){},]`;
/** Inside single quotes, also `(`, `)`, `{`, `}` and `,`: text a shell cannot run even unquoted. */
const QUOTED = String.raw`[^\s'"\`$\\;&|<>]`;
/** Characters of a URL's password: those of PLAIN but `,`, and none that ends the userinfo. */
const URL_SECRET = String.raw`[^\s/?#@'"\`$\\;&|<>(){}]`;

export const DEFAULT_SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    kind: 'private_key',
    // BEGIN, headers, a blank line, key lines, END. Without an END line (a key cut short, or a
    // BEGIN line with something else after it), only the whole key lines after BEGIN.
    pattern: new RegExp(
      `-----BEGIN ${LABEL}(?:${BREAK}${HEADER}){0,4}(?:${BREAK}(?=${BREAK}))?` +
        `(?:${KEY_LINES}(?:${BREAK}${LAST_LINE})?(?:${BREAK}${CHECKSUM})?${BREAK}?-----END ${LABEL}` +
        `|(?:${KEY_LINES})?)`,
    ),
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
    // The password up to the first character it may not hold; the rest of it, up to `@`, stays
    // visible. `(?!…)` stops a shorter password from being tried when the `@` is not there.
    pattern: new RegExp(
      String.raw`(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s/?#@:]{0,256}:` +
        String.raw`(?<secret>${URL_SECRET}{1,256})(?!${URL_SECRET})(?=[^\s/?#@]{0,256}@)`,
    ),
  },
  {
    kind: 'assigned_secret',
    // `PGPASSWORD=…`, `--api-key=…`, `"secret": "…"` inside a command or a config text, up to
    // the first character that could start shell syntax. Between single quotes, up to the
    // closing quote: `password='p(a)ss'`. Double quotes are not special: `$(` runs inside them.
    pattern: new RegExp(
      `${SECRET_NAME}["']?[ \t]{0,4}[=:][ \t]{0,4}["']?` +
        `(?<secret>(?<=')${QUOTED}{1,256}(?=')|${PLAIN}{1,256})`,
      'i',
    ),
  },
];
