/**
 * docs/security.md cites tests as proof; this keeps it from citing tests that do not exist, and
 * its table from drifting from scripts/security-rows.json. It runs no cited test itself:
 * `node scripts/security-report.mjs` does, and writes the results into the page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseTestSuite } from '@kvlar/core';
import { describe, expect, it } from 'vitest';
import {
  CASES_TEST_FILE,
  DOC_FILE,
  declaresTest,
  isTemplate,
  loadRows,
  rowCells,
  type SecurityRow,
  tableCells,
  testTitles,
} from '../../../scripts/security-table.mjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const rows: SecurityRow[] = loadRows(root);
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');

describe('docs/security.md', () => {
  it('cites only tests that exist, each in the file it names under exactly that name', () => {
    const missing: string[] = [];
    for (const row of rows) {
      for (const [file, name] of row.tests) {
        if (!existsSync(`${root}${file}`)) missing.push(`${row.id}: no file ${file}`);
        else if (!declaresTest(read(file), name)) missing.push(`${row.id}: ${file} › ${name}`);
        // A template stands for every case of an it.each: it must be one, not a literal title.
        else if (isTemplate(name) && !testTitles(read(file)).templates.has(name)) {
          missing.push(`${row.id}: ${file} › ${name} is not the title of an it.each`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('cites only policy test cases that exist in the shipped test files', () => {
    expect(existsSync(`${root}${CASES_TEST_FILE}`)).toBe(true);
    const missing: string[] = [];
    for (const row of rows) {
      for (const [file, ids] of Object.entries(row.cases ?? {})) {
        expect(file).toMatch(/^policies\/[^/]+\.test\.yaml$/);
        const parsed = parseTestSuite(read(file), { file });
        if (!parsed.ok) throw new Error(`${file} does not parse`);
        const known = new Set(parsed.suite.tests.map((test) => test.id));
        for (const id of ids) if (!known.has(id)) missing.push(`${row.id}: ${file} case ${id}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('says why for every row that no test proves yet, and names each row once', () => {
    const ids = rows.map((row) => row.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of rows) {
      const cited = row.tests.length + Object.keys(row.cases ?? {}).length;
      if (cited === 0) expect(row.open, row.id).toMatch(/\S/);
      if (row.open !== undefined) expect(row.open, row.id).toMatch(/\S{3}/);
      expect(['agent', 'server', 'web', 'author', 'local', 'fault']).toContain(row.from);
    }
  });

  it('lists exactly the rows defined, in order, with their current text and a result', () => {
    const table = tableCells(read(DOC_FILE));
    expect(table, `${DOC_FILE} has no table between its markers`).toBeDefined();
    const rendered = (table ?? []).map((cells) => cells.slice(0, -1));
    expect(rendered).toEqual(rows.map((row) => rowCells(row)));
    for (const cells of table ?? []) {
      expect(cells.at(-1)).toMatch(/^(pass \(\d+\/\d+\)|open|\*\*fail\*\*|\*\*not run\*\*)/);
    }
  });
});
