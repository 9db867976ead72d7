/** One problem found in a policy or test file, with where it is. */
export interface Issue {
  /** Stable machine-readable code, e.g. `unknown_key`, `invalid_regex`. */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** The file the problem is in, when the caller named one. */
  readonly file?: string;
  /** 1-based line and column, when the problem has a position in the YAML text. */
  readonly line?: number;
  readonly column?: number;
  /** Where inside the document, e.g. `['rules', 2, 'match_on', 'resources']`. */
  readonly path: readonly (string | number)[];
}

/** `rules[2].match_on.resources` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** `policy.yaml:12:7: error: rules[2].match_on: unknown key "resource" (did you mean "resources"?)` */
export function formatIssue(issue: Issue): string {
  const where = [issue.file ?? '<input>', issue.line, issue.column]
    .filter((part) => part !== undefined)
    .join(':');
  const path = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : '';
  return `${where}: ${issue.severity}: ${path}${issue.message}`;
}
