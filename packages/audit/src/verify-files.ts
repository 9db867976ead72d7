import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { GENESIS_HASH } from './chain.js';
import { chainsFor } from './jsonl-files.js';
import {
  type ChainBreak,
  type ChainVerification,
  checkLine,
  tornLine,
  type VerifyWarning,
  verifyText,
} from './verify.js';

interface FilesSummary {
  /** Chains found: one for a file, one per active file name for a directory. */
  readonly chains: number;
  /** Files read (the failing one included). */
  readonly files: number;
  /** Records that verified. */
  readonly records: number;
  readonly warnings: readonly VerifyWarning[];
}
export type FilesVerification =
  | (FilesSummary & { readonly ok: true })
  | (FilesSummary & { readonly ok: false; readonly failure: ChainBreak });

export interface VerifyFilesOptions {
  /** What each chain's first record must link to. Default `GENESIS_HASH`. */
  readonly startHash?: string;
}

/**
 * Verifies the chain a file belongs to (its rotated predecessors, oldest first, then the active
 * file), or every chain in a directory. Stops at the first broken link.
 */
export async function verifyFiles(
  pathOrDirectory: string,
  options: VerifyFilesOptions = {},
): Promise<FilesVerification> {
  const chains = await chainsFor(pathOrDirectory);
  let files = 0;
  let records = 0;
  const warnings: VerifyWarning[] = [];
  for (const chain of chains) {
    let lastHash = options.startHash ?? GENESIS_HASH;
    for (const file of chain.activeExists ? [...chain.rotated, chain.active] : chain.rotated) {
      const result = await verifyFile(file, lastHash);
      files++;
      records += result.records;
      for (const item of result.warnings) warnings.push(item);
      if (!result.ok) {
        return {
          ok: false,
          chains: chains.length,
          files,
          records,
          warnings,
          failure: result.failure,
        };
      }
      lastHash = result.lastHash;
    }
  }
  return { ok: true, chains: chains.length, files, records, warnings };
}

/**
 * `verifyText` of a file, read as a stream: memory stays flat however large the file. Each line
 * is checked and linked as it comes, keeping only the last hash; a file whose chain breaks is
 * read again whole, since naming what happened (edited, inserted, reordered, deleted) needs the
 * records around the break.
 */
export async function verifyFile(file: string, startHash: string): Promise<ChainVerification> {
  let lastHash = startHash;
  let records = 0;
  let pending = '';
  let broken = false;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      pending += chunk;
      let start = 0;
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n', start)) {
        const checked = checkLine(pending.slice(start, end));
        start = end + 1;
        if (!checked.ok || checked.prevHash !== lastHash) {
          broken = true;
          break;
        }
        lastHash = checked.hash;
        records++;
      }
      if (broken) break;
      pending = pending.slice(start);
    }
  } finally {
    stream.destroy();
  }
  if (broken) return verifyText(await readFile(file, 'utf8'), { file, startHash });
  if (pending === '') return { ok: true, records, lastHash, warnings: [] };
  return { ok: true, records, lastHash, warnings: [tornLine(file, records + 1)] };
}
