import { readFile } from 'node:fs/promises';
import { GENESIS_HASH } from './chain.js';
import { chainsFor } from './jsonl-files.js';
import { type ChainBreak, type VerifyWarning, verifyText } from './verify.js';

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
      const result = verifyText(await readFile(file, 'utf8'), { file, startHash: lastHash });
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
