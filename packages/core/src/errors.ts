const marker = Symbol.for('@kvlar/error');

/** String codes for local errors. Wire errors (JSON-RPC) live in @kvlar/proxy. */
export type KvlarErrorCode =
  | 'invalid_policy'
  | 'invalid_test_suite'
  | 'invalid_action'
  | 'extends_failed'
  /** A command line or API call is malformed (the CLI exits 2). */
  | 'usage'
  /** Input the caller pointed at (a file, a JSON argument) is unusable (the CLI exits 1). */
  | 'invalid_input'
  | 'internal';

/**
 * The one error class of Kvlar's libraries. Decisions are never errors: a deny is data.
 * Use `KvlarError.isInstance` rather than `instanceof`, which breaks across duplicated copies.
 */
export class KvlarError extends Error {
  readonly [marker] = true;
  readonly code: KvlarErrorCode;

  constructor(code: KvlarErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KvlarError';
    this.code = code;
  }

  static isInstance(value: unknown): value is KvlarError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}
