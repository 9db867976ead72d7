/**
 * Export of audit records: the filter (`--since`, `--until`, `--outcome`, `--resource`,
 * `--agent`, `--server`, `--kind`) and the jsonl, csv and CEF formatters. Pure: text in, text out.
 */
import type { AuditOutcome } from './event.js';
import type { AuditRecord } from './records.js';

export type ExportFormat = 'jsonl' | 'csv' | 'cef';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'cef'];

/** Accepts the Rust names too: case-insensitive, `json` and `ndjson` for jsonl. */
export function parseExportFormat(text: string): ExportFormat | undefined {
  const name = text.toLowerCase();
  if (name === 'jsonl' || name === 'json' || name === 'ndjson') return 'jsonl';
  if (name === 'csv' || name === 'cef') return name;
  return undefined;
}

export const OUTCOMES: readonly AuditOutcome[] = ['allowed', 'denied', 'pending_approval'];

const OUTCOME_ALIASES: ReadonlyMap<string, AuditOutcome> = new Map([
  ['allowed', 'allowed'],
  ['allow', 'allowed'],
  ['denied', 'denied'],
  ['deny', 'denied'],
  ['pending_approval', 'pending_approval'],
  ['require_approval', 'pending_approval'],
  ['approval', 'pending_approval'],
]);

/** `allowed`/`allow`, `denied`/`deny`, `pending_approval`/`require_approval`/`approval`. */
export function parseOutcome(text: string): AuditOutcome | undefined {
  return OUTCOME_ALIASES.get(text);
}

/** `decisions`: records without `upstream`; `results`: result records (with `upstream`). */
export type RecordKind = 'decisions' | 'results';
export const RECORD_KINDS: readonly RecordKind[] = ['decisions', 'results'];

const KINDS: ReadonlySet<string> = new Set(RECORD_KINDS);

export function parseRecordKind(text: string): RecordKind | undefined {
  return KINDS.has(text) ? (text as RecordKind) : undefined;
}

export interface ExportFilter {
  /** Milliseconds since the epoch; records before it are left out. */
  readonly since?: number;
  /** Milliseconds since the epoch; records after it are left out. */
  readonly until?: number;
  readonly outcome?: AuditOutcome;
  /** Substrings (case-sensitive, as in Rust) of `resource`, `agent_id`, `server`. */
  readonly resource?: string;
  readonly agent?: string;
  /** A record without a `server` (a Rust-era record) never matches. */
  readonly server?: string;
  /** Absent: every record. */
  readonly kind?: RecordKind;
}

export function matchesFilter(record: AuditRecord, filter: ExportFilter): boolean {
  if (filter.since !== undefined && record.time < filter.since) return false;
  if (filter.until !== undefined && record.time > filter.until) return false;
  if (filter.outcome !== undefined && record.outcome !== filter.outcome) return false;
  if (filter.resource !== undefined && !record.resource.includes(filter.resource)) return false;
  if (filter.agent !== undefined && !record.agent_id.includes(filter.agent)) return false;
  if (filter.server !== undefined && !(record.server?.includes(filter.server) ?? false)) {
    return false;
  }
  if (
    filter.kind !== undefined &&
    (record.upstream !== undefined) !== (filter.kind === 'results')
  ) {
    return false;
  }
  return true;
}

// ── jsonl ───────────────────────────────────────────────────────────────────────────────────

/** The line as stored: a chained record keeps its hashes, so the export itself still verifies. */
export function jsonlLine(record: AuditRecord): string {
  return record.line;
}

// ── csv ─────────────────────────────────────────────────────────────────────────────────────

/**
 * The Rust Kvlar's eight columns, then the ones this version added, new ones always last.
 * Fixed: documented in docs/audit.md.
 */
export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'action_type',
  'resource',
  'agent_id',
  'outcome',
  'matched_rule',
  'reason',
  'server',
  'session',
  'call_id',
  'upstream_ok',
  'upstream_error',
  'duration_ms',
] as const;

type CsvColumn = (typeof CSV_COLUMNS)[number];

// What spreadsheets read as the start of a formula (OWASP "CSV injection"): =, +, -, @, and tab
// and carriage return, which some programs skip before looking for one.
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field: a leading formula character gets a `'` before it, so a spreadsheet shows the
 * text instead of running it; then RFC 4180 quoting (a field with `,`, `"`, CR or LF is quoted,
 * `"` doubled).
 */
export function csvField(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',');
}

export function csvRow(record: AuditRecord): string {
  return CSV_COLUMNS.map((column) => csvField(csvValue(record, column))).join(',');
}

/** The `upstream` columns are empty for a decision; `upstream_ok` is `true` or `false`. */
function csvValue(record: AuditRecord, column: CsvColumn): string {
  const { upstream } = record;
  switch (column) {
    case 'upstream_ok':
      return upstream === undefined ? '' : String(upstream.ok);
    case 'upstream_error':
      return upstream?.error ?? '';
    case 'duration_ms':
      return upstream === undefined ? '' : String(upstream.duration_ms);
    default:
      return record[column] ?? '';
  }
}

// ── CEF ─────────────────────────────────────────────────────────────────────────────────────

/** CEF severities, as in Rust: allowed 1, pending approval 5, denied 8. */
export const CEF_SEVERITY: Readonly<Record<AuditOutcome, number>> = {
  allowed: 1,
  pending_approval: 5,
  denied: 8,
};

/** A result record's signature id and severity: the server answered (1) or failed (3). */
export const CEF_RESULT_SEVERITY: Readonly<Record<'upstream_ok' | 'upstream_error', number>> = {
  upstream_ok: 1,
  upstream_error: 3,
};

/** A CEF header field: `\` and `|` escaped; CR and LF (not allowed in a header) become spaces. */
export function cefHeaderField(value: string): string {
  return value.replace(/[\\|]/g, (char) => `\\${char}`).replace(/\r\n|[\r\n]/g, ' ');
}

/** A CEF extension value: `\`, `=` escaped, CR LF or LF as `\n`, a lone CR as `\r`. */
export function cefExtensionValue(value: string): string {
  return value
    .replace(/[\\=]/g, (char) => `\\${char}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

/**
 * `CEF:0|Kvlar|PolicyEngine|<version>|<outcome>|<action_type>/<resource>|<severity>|<extensions>`.
 * The signature id is the outcome (one per kind of event, as CEF intends; the record's own id is
 * `externalId`), or `upstream_ok`/`upstream_error` for a result record; `rt` is milliseconds
 * since the epoch, one of the two forms CEF defines.
 */
export function cefLine(record: AuditRecord, version: string): string {
  const { upstream } = record;
  const result =
    upstream === undefined ? undefined : upstream.ok ? 'upstream_ok' : 'upstream_error';
  const severity =
    result === undefined ? CEF_SEVERITY[record.outcome] : CEF_RESULT_SEVERITY[result];
  const header = [
    'CEF:0',
    'Kvlar',
    'PolicyEngine',
    cefHeaderField(version),
    result ?? record.outcome,
    cefHeaderField(`${record.action_type}/${record.resource}`),
    String(severity),
  ].join('|');
  const extensions: [string, string | undefined][] = [
    ['rt', String(record.time)],
    ['externalId', record.id],
    ['act', record.action_type],
    ['suser', record.agent_id],
    ['outcome', record.outcome],
    ['request', record.resource],
    ['cs1', record.matched_rule],
    ['cs1Label', 'matchedRule'],
    ['cs2', record.server],
    ['cs2Label', record.server === undefined ? undefined : 'server'],
    ['cs3', record.session],
    ['cs3Label', record.session === undefined ? undefined : 'session'],
    ['cs4', record.call_id],
    ['cs4Label', record.call_id === undefined ? undefined : 'callId'],
    // cn1 is an integer field in CEF.
    ['cn1', upstream === undefined ? undefined : String(Math.round(upstream.duration_ms))],
    ['cn1Label', upstream === undefined ? undefined : 'durationMs'],
    ['msg', upstream === undefined ? (record.reason ?? '') : (upstream.error ?? '')],
  ];
  const text = extensions
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${cefExtensionValue(value)}`)
    .join(' ');
  return `${header}|${text}`;
}

// ── all together ────────────────────────────────────────────────────────────────────────────

export interface ExportResult {
  readonly text: string;
  /** Records exported (after the filter). */
  readonly count: number;
}

/**
 * The export of the records that pass `filter`: one line per record, each ending in `\n`
 * (`\r\n` for csv, as RFC 4180 says), csv with its header line first.
 */
export function exportRecords(
  records: readonly AuditRecord[],
  format: ExportFormat,
  options: { readonly filter?: ExportFilter; readonly version: string },
): ExportResult {
  const selected = records.filter((record) => matchesFilter(record, options.filter ?? {}));
  let lines: string[];
  let end = '\n';
  switch (format) {
    case 'jsonl':
      lines = selected.map(jsonlLine);
      break;
    case 'csv':
      lines = [csvHeader(), ...selected.map(csvRow)];
      end = '\r\n';
      break;
    case 'cef':
      lines = selected.map((record) => cefLine(record, options.version));
      break;
  }
  return { text: lines.map((line) => line + end).join(''), count: selected.length };
}
