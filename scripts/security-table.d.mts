/** Types of security-table.mjs, for the TypeScript test that imports it. */
export interface SecurityRow {
  readonly id: string;
  readonly from: string;
  readonly attack: string;
  readonly expected: string;
  /** [file, test name] pairs. */
  readonly tests: readonly (readonly [string, string])[];
  /** Policy test file → case ids. */
  readonly cases?: Readonly<Record<string, readonly string[]>>;
  /** Why the row is not (fully) proved yet. */
  readonly open?: string;
}

export declare const START_MARKER: string;
export declare const END_MARKER: string;
export declare const ROWS_FILE: string;
export declare const DOC_FILE: string;
export declare const CASES_TEST_FILE: string;
export declare function loadRows(root: string): SecurityRow[];
export declare function caseTitle(id: string): string;
export declare function caseGroup(file: string): string;
export declare function isTemplate(name: string): boolean;
export declare function titlePattern(template: string): RegExp;
export declare function testTitles(source: string): {
  literal: Set<string>;
  templates: Set<string>;
};
export declare function declaresTest(source: string, name: string): boolean;
export declare function rowCells(row: SecurityRow): string[];
export declare function renderTable(
  rows: readonly SecurityRow[],
  results: ReadonlyMap<string, string>,
  summary: string,
): string;
export declare function tableCells(markdown: string): string[][] | undefined;
export declare function replaceTable(markdown: string, section: string): string;
