import { canonicalJson } from '../src/canonical.js';
import { GENESIS_HASH, linkEvent, serializeEvent } from '../src/chain.js';
import { type AuditEvent, createMemorySink } from '../src/index.js';
import { entry, fixedRecordOptions } from './fixtures.js';

/** `count` linked records as the lines of a log. */
export async function chainLines(count: number, start?: string): Promise<string[]> {
  const sink = createMemorySink(fixedRecordOptions(start));
  for (let i = 0; i < count; i++) await sink.write(entry({ resource: `tool_${i}` }));
  return sink.events.map(serializeEvent);
}

function record(line: string | undefined): AuditEvent {
  return JSON.parse(line ?? '') as AuditEvent;
}

/** Changes the outcome of line `index` (0-based) and keeps its stored hash, as a hand edit does. */
export function edited(lines: readonly string[], index: number): string[] {
  const copy = [...lines];
  const original = record(copy[index]);
  copy[index] = canonicalJson({
    ...original,
    outcome: original.outcome === 'allowed' ? 'denied' : 'allowed',
  });
  return copy;
}

export function deleted(lines: readonly string[], index: number): string[] {
  return lines.filter((_, i) => i !== index);
}

/** Inserts at `index` a well-formed record linked to the one before it, as a forger would. */
export function forged(lines: readonly string[], index: number): string[] {
  const prevHash = index === 0 ? GENESIS_HASH : record(lines[index - 1]).hash;
  const { prev_hash: _prev, hash: _hash, ...body } = record(lines[0]);
  const fake = linkEvent(prevHash, { ...body, id: 'forged', resource: 'harmless_tool' });
  return [...lines.slice(0, index), serializeEvent(fake), ...lines.slice(index)];
}

/** Inserts a copy of line `from` at `index`. */
export function copied(lines: readonly string[], from: number, index: number): string[] {
  return [...lines.slice(0, index), lines[from] ?? '', ...lines.slice(index)];
}

export function swapped(lines: readonly string[], a: number, b: number): string[] {
  const copy = [...lines];
  [copy[a], copy[b]] = [lines[b] ?? '', lines[a] ?? ''];
  return copy;
}
