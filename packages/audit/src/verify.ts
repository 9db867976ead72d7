/**
 * Chain verification over lines already in memory: pure, no I/O. `verifyFiles` feeds it files.
 * It stops at the first broken link and says why, guessing the kind of tampering from the links
 * around it (a copy of an earlier record, a record that belongs later, a gap).
 */
import { canonicalJson } from './canonical.js';
import { GENESIS_HASH, HASH_PATTERN, hashRecord } from './chain.js';

export type ChainBreakReason =
  /** The line is not a JSON object. */
  | 'bad_json'
  /** A JSON object without valid `prev_hash` and `hash`: not a Kvlar hash-chained record. */
  | 'invalid_record'
  /** `prev_hash` equals `hash`: a forged or broken record. */
  | 'self_linked'
  /** The content does not match the record's hash. */
  | 'edited'
  /** The content matches its hash but the line is not its canonical form (it was rewritten). */
  | 'not_canonical'
  /** Records before this one are missing. */
  | 'deleted'
  /** Records were added: a copy of an earlier record, or records whose successor skips them. */
  | 'inserted'
  /** The record links to one that comes later. */
  | 'reordered'
  /** The link is wrong and nothing around it tells how. */
  | 'broken_link';

export interface ChainBreak {
  readonly file?: string;
  /** 1-based. */
  readonly line: number;
  readonly reason: ChainBreakReason;
  readonly message: string;
}

/** Something that does not break the chain but must be seen. */
export interface VerifyWarning {
  readonly file?: string;
  readonly line: number;
  readonly reason: 'torn_line';
  readonly message: string;
}

interface Verified {
  /** Records that verified, in order, before any failure. */
  readonly records: number;
  /** The hash of the last record that verified (the start hash if none did). */
  readonly lastHash: string;
  readonly warnings: readonly VerifyWarning[];
}
export type ChainVerification =
  | (Verified & { readonly ok: true })
  | (Verified & { readonly ok: false; readonly failure: ChainBreak });

export interface VerifyOptions {
  /** Named in failures and warnings. */
  readonly file?: string;
  /** What the first record's `prev_hash` must be. Default `GENESIS_HASH`. */
  readonly startHash?: string;
}

type CheckedLine =
  | { readonly ok: true; readonly prevHash: string; readonly hash: string }
  | { readonly ok: false; readonly reason: ChainBreakReason; readonly message: string };

/** Checks one line on its own: JSON, chain fields, hash, canonical form. Not its link. */
export function checkLine(line: string): CheckedLine {
  const record = parseObject(line);
  if (record === undefined) return { ok: false, reason: 'bad_json', message: 'not a JSON object' };
  const { prev_hash: prevHash, hash } = record;
  if (typeof prevHash !== 'string' || typeof hash !== 'string') {
    return {
      ok: false,
      reason: 'invalid_record',
      message: 'no prev_hash and hash: not a hash-chained Kvlar record',
    };
  }
  if (!HASH_PATTERN.test(prevHash) || !HASH_PATTERN.test(hash)) {
    return { ok: false, reason: 'invalid_record', message: 'prev_hash or hash is not hex SHA-256' };
  }
  if (prevHash === hash) {
    return { ok: false, reason: 'self_linked', message: 'prev_hash equals the record’s own hash' };
  }
  let canonical: string;
  try {
    if (hashRecord(record) !== hash) {
      return { ok: false, reason: 'edited', message: 'the content does not match its hash' };
    }
    canonical = canonicalJson(record);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'invalid_record', message };
  }
  if (canonical !== line) {
    return {
      ok: false,
      reason: 'not_canonical',
      message: 'the content matches its hash but the line was rewritten (not in canonical form)',
    };
  }
  return { ok: true, prevHash, hash };
}

export function verifyChain(
  lines: readonly string[],
  options: VerifyOptions = {},
): ChainVerification {
  const startHash = options.startHash ?? GENESIS_HASH;
  const hashes: string[] = [];
  const previous = (index: number) => (index === 0 ? startHash : (hashes[index - 1] ?? startHash));
  const fail = (index: number, reason: ChainBreakReason, message: string): ChainVerification => ({
    ok: false,
    records: index,
    lastHash: previous(index),
    warnings: [],
    failure: {
      ...(options.file === undefined ? {} : { file: options.file }),
      line: index + 1,
      reason,
      message,
    },
  });

  for (const [index, line] of lines.entries()) {
    const checked = checkLine(line);
    if (!checked.ok) {
      if (checked.reason !== 'edited') return fail(index, checked.reason, checked.message);
      const next = peek(lines[index + 1]);
      // An inserted record with a made-up hash looks edited, but its successor skips it.
      if (next?.prevHash === previous(index) && next.prevHash !== peek(line)?.hash) {
        return fail(index, 'inserted', 'the record was inserted: the next record skips it');
      }
      return fail(index, 'edited', 'the record was edited: its content does not match its hash');
    }
    if (checked.prevHash !== previous(index)) {
      const broken = classifyLink(lines, index, previous(index), startHash, checked);
      return fail(broken.index, broken.reason, broken.message);
    }
    hashes.push(checked.hash);
  }
  return { ok: true, records: hashes.length, lastHash: previous(hashes.length), warnings: [] };
}

/** Splits a file's text into lines; an unterminated last line is reported, not verified. */
export function verifyText(text: string, options: VerifyOptions = {}): ChainVerification {
  if (text === '') return verifyChain([], options);
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  const result = verifyChain(lines, options);
  if (tail === '') return result;
  return { ...result, warnings: [...result.warnings, tornLine(options.file, lines.length + 1)] };
}

/** The warning for a file whose last line (`line`) has no newline. */
export function tornLine(file: string | undefined, line: number): VerifyWarning {
  return {
    ...(file === undefined ? {} : { file }),
    line,
    reason: 'torn_line',
    message: 'the last line is incomplete (a write was cut short); it is not part of the chain',
  };
}

interface Link {
  readonly prevHash?: string;
  readonly hash?: string;
}

function peek(line: string | undefined): Link | undefined {
  const record = line === undefined ? undefined : parseObject(line);
  if (record === undefined) return undefined;
  const { prev_hash: prevHash, hash } = record;
  return {
    ...(typeof prevHash === 'string' ? { prevHash } : {}),
    ...(typeof hash === 'string' ? { hash } : {}),
  };
}

/** Why record `index` does not link to the one before it (`expected` is that one's hash). */
function classifyLink(
  lines: readonly string[],
  index: number,
  expected: string,
  startHash: string,
  record: { readonly prevHash: string; readonly hash: string },
): { index: number; reason: ChainBreakReason; message: string } {
  const links = lines.map(peek);
  const earlier = links.slice(0, index);
  const later = links.slice(index + 1);

  const copyOf = earlier.findIndex((link) => link?.hash === record.hash);
  if (copyOf >= 0) {
    return { index, reason: 'inserted', message: `the record is a copy of line ${copyOf + 1}` };
  }
  const successorOf = later.findIndex((link) => link?.hash === record.prevHash);
  if (successorOf >= 0) {
    const line = index + successorOf + 2;
    return {
      index,
      reason: 'reordered',
      message: `the record follows line ${line}, which comes after it: records were reordered`,
    };
  }
  const resumesAt = later.findIndex((link) => link?.prevHash === expected);
  if (resumesAt >= 0) {
    const last = index + resumesAt + 1;
    return { index, reason: 'inserted', message: insertedMessage(index, last) };
  }
  // A record that verified itself and links further back: the records between were inserted.
  const linkedTo =
    record.prevHash === startHash
      ? -1
      : earlier.findIndex((link) => link?.hash === record.prevHash);
  if (linkedTo >= 0 || record.prevHash === startHash) {
    return {
      index: linkedTo + 1,
      reason: 'inserted',
      message: insertedMessage(linkedTo + 1, index),
    };
  }
  if (later[0]?.prevHash === record.hash) {
    return {
      index,
      reason: 'deleted',
      message:
        index === 0
          ? 'the chain does not start where it should: records or files before it are missing'
          : 'records before this one are missing (deleted, or rewritten with a new hash)',
    };
  }
  return {
    index,
    reason: 'broken_link',
    message: 'prev_hash matches no record: a record before it was deleted, or this one inserted',
  };
}

function insertedMessage(from: number, to: number): string {
  return to - from <= 1
    ? 'the record was inserted: the next record skips it'
    : `records on lines ${from + 1}–${to} were inserted: the next record skips them`;
}

function parseObject(line: string): Readonly<Record<string, unknown>> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Readonly<Record<string, unknown>>)
      : undefined;
  } catch {
    return undefined;
  }
}
