import { formatIssue, type Issue } from '@kvlar/core';
import type { Runtime } from './runtime.js';

/** Every issue, one line each (`file:line:column: error: path: message`), on stderr. */
export function reportIssues(runtime: Runtime, issues: readonly Issue[]): void {
  for (const issue of issues) {
    if (issue.severity === 'warning') runtime.logger.warn(formatIssue(issue));
    else runtime.logger.error(formatIssue(issue));
  }
}

/** Issues as --json prints them: every field present, `null` when unknown. */
export function issueJson(issue: Issue): Record<string, unknown> {
  return {
    code: issue.code,
    severity: issue.severity,
    message: issue.message,
    file: issue.file ?? null,
    line: issue.line ?? null,
    column: issue.column ?? null,
    path: issue.path,
  };
}
