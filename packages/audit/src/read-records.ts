/** Reads the records of an audit file (with its rotated predecessors) or a directory: the I/O half of export and stats. */
import { readFile } from 'node:fs/promises';
import { AuditError } from './errors.js';
import { chainsFor } from './jsonl-files.js';
import { type AuditRecord, parseRecords, type SkippedLine } from './records.js';

export interface RecordsRead {
  /** Files read, in order: each chain's rotated files oldest first, then its active file. */
  readonly files: readonly string[];
  readonly records: readonly AuditRecord[];
  readonly skipped: readonly SkippedLine[];
}

/**
 * Every record of a file's chain, or of every chain in a directory, in file order. A file that
 * is not part of a rotation (a Rust-era log of any name) is read on its own.
 */
export async function readAuditRecords(pathOrDirectory: string): Promise<RecordsRead> {
  const chains = await chainsFor(pathOrDirectory);
  const files = chains.flatMap((chain) =>
    chain.activeExists ? [...chain.rotated, chain.active] : [...chain.rotated],
  );
  const records: AuditRecord[] = [];
  const skipped: SkippedLine[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new AuditError('invalid_input', `cannot read ${file}`, { cause: error });
    }
    const parsed = parseRecords(text, { file, wholeFile: true });
    for (const item of parsed.records) records.push(item);
    for (const item of parsed.skipped) skipped.push(item);
  }
  return { files, records, skipped };
}
