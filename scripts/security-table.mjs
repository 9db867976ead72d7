/**
 * The results table of docs/security.md, without I/O beyond reading the row definitions:
 * scripts/security-report.mjs fills it from a vitest run, and
 * packages/proxy/test/security-doc.test.ts checks that the page and the rows agree and that every
 * cited test exists.
 */
import { readFileSync } from 'node:fs';

export const START_MARKER = '<!-- security-table:start -->';
export const END_MARKER = '<!-- security-table:end -->';
export const ROWS_FILE = 'scripts/security-rows.json';
export const DOC_FILE = 'docs/security.md';
/** Runs every case of every shipped policy test file as its own vitest test. */
export const CASES_TEST_FILE = 'packages/cli/test/template-cases.test.ts';

/** The rows, in table order, from the repository at `root` (a path ending in `/`). */
export function loadRows(root) {
  return JSON.parse(readFileSync(`${root}${ROWS_FILE}`, 'utf8')).rows;
}

/** The vitest title under which template-cases.test.ts runs a policy test case. */
export function caseTitle(id) {
  return `decides ${id} as the file expects`;
}

/** The describe block template-cases.test.ts puts a test file's cases in. */
export function caseGroup(file) {
  return file;
}

const PLACEHOLDER = /%[sdifjoO#$]|\$[A-Za-z_][\w.]*/g;

/** Whether a cited name stands for every case of an it.each (`%s`, `$name`). */
export function isTemplate(name) {
  return new RegExp(PLACEHOLDER.source).test(name);
}

/** A title of an it.each as a pattern its expanded titles match; each placeholder is captured. */
export function titlePattern(template) {
  let source = '';
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    source += `${escapeRegExp(template.slice(last, match.index))}([\\s\\S]*?)`;
    last = match.index + match[0].length;
  }
  source += escapeRegExp(template.slice(last));
  return new RegExp(`^${source.replaceAll('%%', '%')}$`);
}

function escapeRegExp(text) {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/**
 * The titles of the tests declared in a test file's source: `it('…')`, `test("…")`,
 * `it.each(table)('…')`, with modifiers (`.skip`, `.runIf(c)`…). Titles built at run time
 * (template literals with `${…}`) are left out. `templates` are the titles of `.each`/`.for`.
 */
export function testTitles(source) {
  const literal = new Set();
  const templates = new Set();
  const call = /\b(?:it|test)\b((?:\s*\.\s*[A-Za-z]+)*)\s*\(/g;
  for (const match of source.matchAll(call)) {
    // `pattern.test(text)` is a method call, not a test.
    if (source[match.index - 1] === '.') continue;
    let at = match.index + match[0].length;
    const modifiers = match[1].split('.').map((part) => part.trim());
    const withArguments = modifiers.some((name) =>
      ['each', 'for', 'runIf', 'skipIf'].includes(name),
    );
    if (withArguments) {
      // `it.each(table)(title, …)`: skip the table, then expect the second call.
      const end = skipBalanced(source, at - 1);
      if (end === undefined) continue;
      const open = /^\s*\(/.exec(source.slice(end));
      if (open === null) continue;
      at = end + open[0].length;
    }
    const title = readString(source, at);
    if (title === undefined) continue;
    if (modifiers.includes('each') || modifiers.includes('for')) templates.add(title);
    else literal.add(title);
  }
  return { literal, templates };
}

/** The index just after the parenthesis matching the one at `open`, skipping strings and comments. */
function skipBalanced(source, open) {
  let depth = 0;
  let i = open;
  while (i < source.length) {
    const char = source[i];
    if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (char === "'" || char === '"' || char === '`') {
      const end = stringEnd(source, i);
      if (end === undefined) return undefined;
      i = end;
      continue;
    } else if (char === '/' && source[i + 1] === '/') {
      const newline = source.indexOf('\n', i);
      i = newline === -1 ? source.length : newline;
      continue;
    } else if (char === '/' && source[i + 1] === '*') {
      const close = source.indexOf('*/', i + 2);
      i = close === -1 ? source.length : close + 2;
      continue;
    }
    i++;
  }
  return undefined;
}

/** The index just after the string literal that starts at `start`. */
function stringEnd(source, start) {
  const quote = source[start];
  let i = start + 1;
  while (i < source.length) {
    const char = source[i];
    if (char === '\\') i += 2;
    else if (char === quote) return i + 1;
    else if (quote === '`' && char === '$' && source[i + 1] === '{') {
      const end = skipBalanced(source, i + 1);
      if (end === undefined) return undefined;
      i = end;
    } else i++;
  }
  return undefined;
}

/** The value of the string literal at `at` (after blanks), or undefined if there is none. */
function readString(source, at) {
  let i = at;
  while (/\s/.test(source[i] ?? '')) i++;
  const quote = source[i];
  if (quote !== "'" && quote !== '"' && quote !== '`') return undefined;
  const end = stringEnd(source, i);
  if (end === undefined) return undefined;
  const body = source.slice(i + 1, end - 1);
  if (quote === '`' && body.includes('${')) return undefined;
  return decodeEscapes(body);
}

function decodeEscapes(body) {
  return body.replace(
    /\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|[\s\S])/g,
    (_, sequence) => {
      if (sequence.startsWith('u{'))
        return String.fromCodePoint(Number.parseInt(sequence.slice(2, -1), 16));
      if (sequence.length === 5 && sequence[0] === 'u')
        return String.fromCharCode(Number.parseInt(sequence.slice(1), 16));
      if (sequence.length === 3 && sequence[0] === 'x')
        return String.fromCharCode(Number.parseInt(sequence.slice(1), 16));
      const simple = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' };
      if (sequence === '\n' || sequence === '\r\n') return '';
      return Object.hasOwn(simple, sequence) ? simple[sequence] : sequence;
    },
  );
}

/**
 * Whether `source` declares a test named `name`: a title written so, or (for a name that is one
 * case of an it.each) a template it expands, each filled-in part written in the file.
 */
export function declaresTest(source, name) {
  const { literal, templates } = testTitles(source);
  if (literal.has(name) || templates.has(name)) return true;
  for (const template of templates) {
    const match = titlePattern(template).exec(name);
    if (match === null) continue;
    if (match.slice(1).every((part) => part !== '' && source.includes(part))) return true;
  }
  return false;
}

/** Markdown table text: `|` escaped, line breaks flattened. */
function cell(text) {
  return text.replaceAll('|', '\\|').replace(/\s*\n\s*/g, ' ');
}

const FROM = {
  agent: 'agent',
  server: 'server',
  web: 'web page',
  author: 'policy author',
  local: 'local user',
  fault: 'fault',
};

/** A test name as Markdown shows it as written (`__proto__` is not bold). */
function plain(text) {
  return text.replace(/[\\`*_<>[\]]/g, '\\$&');
}

/** The cells of a row that come from its definition: everything but the result. */
export function rowCells(row) {
  const evidence = [
    ...row.tests.map(([file, name]) => `\`${file}\` › ${plain(name)}`),
    ...Object.entries(row.cases ?? {}).map(
      ([file, ids]) => `\`${file}\` cases ${ids.map((id) => `\`${id}\``).join(', ')}`,
    ),
  ];
  const proof = evidence.length === 0 ? `*not yet tested:* ${row.open}` : evidence.join('<br>');
  const expected =
    row.open !== undefined && evidence.length > 0
      ? `${row.expected} *Open:* ${row.open}`
      : row.expected;
  return [`\`${row.id}\``, FROM[row.from] ?? row.from, row.attack, expected, proof].map(cell);
}

const HEADER = [
  '| Row | From | Attack or fault | What Kvlar does | Proved by | Result |',
  '| --- | --- | --- | --- | --- | --- |',
];

/** The whole section between the markers, markers included. */
export function renderTable(rows, results, summary) {
  const lines = rows.map(
    (row) => `| ${[...rowCells(row), cell(results.get(row.id) ?? 'not run')].join(' | ')} |`,
  );
  return [START_MARKER, '', summary, '', ...HEADER, ...lines, '', END_MARKER].join('\n');
}

/** The table lines between the markers, each split into its cells; undefined without markers. */
export function tableCells(markdown) {
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return undefined;
  return markdown
    .slice(start + START_MARKER.length, end)
    .split('\n')
    .filter(
      (line) => line.startsWith('| ') && !line.startsWith('| Row |') && !line.startsWith('| ---'),
    )
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((part) => part.trim()),
    );
}

/** `markdown` with the section between the markers replaced by `section`. */
export function replaceTable(markdown, section) {
  const start = markdown.indexOf(START_MARKER);
  const end = markdown.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`${DOC_FILE} has no ${START_MARKER} … ${END_MARKER} section`);
  }
  return markdown.slice(0, start) + section + markdown.slice(end + END_MARKER.length);
}
