/**
 * Summary statistics of audit records, and the Rust Kvlar's text rendering of them. Pure.
 * Decisions and result records (the server's answers, with `upstream`) are counted apart, so a
 * call whose result was recorded still counts once.
 */
import { safeText } from './format-human.js';
import type { AuditRecord } from './records.js';

export interface CountedName {
  readonly name: string;
  readonly count: number;
}

/** The result records: how forwarded calls ended at the MCP server. */
export interface ResultStats {
  readonly ok: number;
  readonly error: number;
  /**
   * Median (nearest rank) and largest `upstream.duration_ms` over every result, ok or error;
   * absent when there are no results.
   */
  readonly p50_ms?: number;
  readonly max_ms?: number;
}

export interface AuditStats {
  /** Decision records: every record but the results. */
  readonly events: number;
  /** Of the decision records. */
  readonly outcomes: {
    readonly allowed: number;
    readonly denied: number;
    readonly pending_approval: number;
  };
  /**
   * RFC 3339 (UTC, milliseconds) of the earliest and latest records, results included; absent
   * when there are none.
   */
  readonly first?: string;
  readonly last?: string;
  /** Every resource and agent of the decisions, most frequent first; ties by name, so output is stable. */
  readonly resources: readonly CountedName[];
  readonly agents: readonly CountedName[];
  readonly results: ResultStats;
}

export function auditStats(records: readonly AuditRecord[]): AuditStats {
  const outcomes = { allowed: 0, denied: 0, pending_approval: 0 };
  const resources = new Map<string, number>();
  const agents = new Map<string, number>();
  const durations: number[] = [];
  let events = 0;
  let ok = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const record of records) {
    if (first === undefined || record.time < first) first = record.time;
    if (last === undefined || record.time > last) last = record.time;
    if (record.upstream !== undefined) {
      if (record.upstream.ok) ok++;
      durations.push(record.upstream.duration_ms);
      continue;
    }
    events++;
    outcomes[record.outcome]++;
    resources.set(record.resource, (resources.get(record.resource) ?? 0) + 1);
    agents.set(record.agent_id, (agents.get(record.agent_id) ?? 0) + 1);
  }
  durations.sort((a, b) => a - b);
  const p50 = durations[Math.ceil(durations.length / 2) - 1];
  const max = durations[durations.length - 1];
  return {
    events,
    outcomes,
    ...(first === undefined ? {} : { first: new Date(first).toISOString() }),
    ...(last === undefined ? {} : { last: new Date(last).toISOString() }),
    resources: ranked(resources),
    agents: ranked(agents),
    results: {
      ok,
      error: durations.length - ok,
      ...(p50 === undefined ? {} : { p50_ms: p50 }),
      ...(max === undefined ? {} : { max_ms: max }),
    },
  };
}

function ranked(counts: ReadonlyMap<string, number>): CountedName[] {
  return [...counts]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How many resources and agents the text summary lists, as in Rust. */
export const STATS_TOP = 10;

/**
 * The Rust Kvlar's `audit stats` text, line for line (`file` is shown as given), plus an
 * `Upstream Results:` block after the outcomes when there are result records. With no records
 * it is the single line Rust printed.
 */
export function formatStats(stats: AuditStats, file: string): string[] {
  const { results } = stats;
  if (stats.events === 0 && results.ok + results.error === 0) {
    return [`No audit events found in ${file}`];
  }
  const lines = ['Audit Log Summary', '─────────────────', `File:     ${file}`];
  lines.push(`Events:   ${stats.events}`);
  if (stats.first !== undefined && stats.last !== undefined) {
    lines.push(`Period:   ${minute(stats.first)} → ${minute(stats.last)}`);
  }
  lines.push(
    '',
    'Outcomes:',
    `  Allowed:          ${stats.outcomes.allowed}`,
    `  Denied:           ${stats.outcomes.denied}`,
    `  Pending Approval: ${stats.outcomes.pending_approval}`,
  );
  if (results.ok + results.error > 0) {
    lines.push(
      '',
      'Upstream Results:',
      `  OK:               ${results.ok}`,
      `  Error:            ${results.error}`,
    );
    if (results.p50_ms !== undefined && results.max_ms !== undefined) {
      lines.push(`  Duration:         p50 ${results.p50_ms}ms, max ${results.max_ms}ms`);
    }
  }
  lines.push(
    '',
    'Top Resources:',
    ...top(stats.resources),
    '',
    'Top Agents:',
    ...top(stats.agents),
  );
  return lines;
}

/** `2025-03-01T12:34:56.000Z` → `2025-03-01 12:34` (chrono's `%Y-%m-%d %H:%M`). */
function minute(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Rust's `{:20}`: pad to 20 characters (Unicode scalar values), never truncate. Tool names and
 * agent ids come from clients and models: escaped as `audit tail` escapes them, so a name cannot
 * forge a line or move the cursor over the counts.
 */
function top(names: readonly CountedName[]): string[] {
  return names.slice(0, STATS_TOP).map(({ name, count }) => {
    const shown = safeText(name);
    const width = [...shown].length;
    return `  ${shown}${' '.repeat(Math.max(0, 20 - width))} ${count}`;
  });
}
