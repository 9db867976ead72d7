/**
 * @kvlar/audit: Kvlar's audit trail. The audit record, the `AuditSink` interface and its sinks
 * (JSONL file, HTTP collector, stderr, memory), redaction of secrets before anything is hashed or
 * written, and verification of the hash chain that makes editing, deleting, inserting or
 * reordering records detectable.
 */

export { canonicalJson } from './canonical.js';
export {
  GENESIS_HASH,
  hashRecord,
  linkAndSerialize,
  linkEvent,
  serializeEvent,
  type UnlinkedEvent,
} from './chain.js';
export { AuditError, type AuditErrorCode } from './errors.js';
export {
  type AuditApproval,
  type AuditEntry,
  type AuditEvent,
  type AuditOutcome,
  type AuditPolicy,
  type AuditUpstream,
  outcomeOf,
} from './event.js';
export { AuditEventSchema, auditEventJsonSchema } from './event-schema.js';
export {
  CEF_RESULT_SEVERITY,
  CEF_SEVERITY,
  CSV_COLUMNS,
  cefExtensionValue,
  cefHeaderField,
  cefLine,
  csvField,
  csvHeader,
  csvRow,
  EXPORT_FORMATS,
  type ExportFilter,
  type ExportFormat,
  type ExportResult,
  exportRecords,
  jsonlLine,
  matchesFilter,
  OUTCOMES,
  parseExportFormat,
  parseOutcome,
  parseRecordKind,
  RECORD_KINDS,
  type RecordKind,
} from './export.js';
export {
  formatHuman,
  formatRecordHuman,
  type HumanFields,
  safeText,
  visibleText,
} from './format-human.js';
export {
  createHttpSink,
  type HttpSink,
  type HttpSinkOptions,
  type HttpSinkStats,
  type HttpSinkWarning,
} from './http-sink.js';
export { createJsonlSink, type JsonlSink, type JsonlSinkOptions } from './jsonl-sink.js';
export { createMemorySink, type MemorySink } from './memory-sink.js';
export { type RecordsRead, readAuditRecords } from './read-records.js';
export type { RecordOptions } from './record.js';
export {
  type AuditRecord,
  type ParsedRecords,
  parseRecordLine,
  parseRecords,
  parseRfc3339,
  type SkippedLine,
} from './records.js';
export {
  createRedactor,
  type RedactionOptions,
  type Redactor,
  redactionMarker,
  type SecretRegex,
} from './redact.js';
export { DEFAULT_REDACTED_KEYS } from './redact-keys.js';
export { DEFAULT_SECRET_PATTERNS, type SecretPattern } from './secret-patterns.js';
export type { AuditSink } from './sink.js';
export {
  type AuditStats,
  auditStats,
  type CountedName,
  formatStats,
  type ResultStats,
  STATS_TOP,
} from './stats.js';
export { createStderrSink, type StderrSinkOptions, type TextStream } from './stderr-sink.js';
export { type AuditTail, openAuditTail } from './tail.js';
export {
  type ChainBreak,
  type ChainBreakReason,
  type ChainVerification,
  checkLine,
  type VerifyOptions,
  type VerifyWarning,
  verifyChain,
  verifyText,
} from './verify.js';
export { type FilesVerification, verifyFiles } from './verify-files.js';
