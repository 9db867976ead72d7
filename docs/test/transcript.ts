/**
 * ```console blocks: commands after `$ `, each followed by its expected output. Pure: parsing,
 * the few normalisations of volatile output, and matching with `...` elisions.
 */

export interface Command {
  /** Line of the `$ ` inside the block, 0-based. */
  readonly offset: number;
  /** The shell text after `$ `: continuation lines and here-document bodies included. */
  readonly text: string;
  readonly expected: readonly string[];
}

/**
 * A command continues on the next line after a trailing `\`, and over the body of a here-document
 * (`<<EOF`, `<<'EOF'`, `<<-EOF`) up to its terminator. Everything else up to the next `$ ` is
 * output. Lines before the first `$ ` are an error.
 */
export function parseTranscript(content: string): Command[] | string {
  const lines = content.replace(/\n$/, '').split('\n');
  const commands: Command[] = [];
  let index = 0;
  if (lines.length > 0 && !lines[0]!.startsWith('$ ')) {
    return 'a console block must start with a "$ " command';
  }
  while (index < lines.length) {
    const offset = index;
    const text: string[] = [lines[index]!.slice(2)];
    index++;
    while (text.at(-1)!.endsWith('\\') && index < lines.length) text.push(lines[index++]!);
    for (const terminator of hereDocTerminators(text.join('\n'))) {
      while (index < lines.length && lines[index]!.replace(/^\t+/, '') !== terminator) {
        text.push(lines[index++]!);
      }
      if (index === lines.length) return `the here-document of line ${offset + 1} never ends`;
      text.push(lines[index++]!);
    }
    const expected: string[] = [];
    while (index < lines.length && !lines[index]!.startsWith('$ ')) expected.push(lines[index++]!);
    commands.push({ offset, text: text.join('\n'), expected });
  }
  return commands;
}

function hereDocTerminators(command: string): string[] {
  return [...command.matchAll(/<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/g)].map(
    (match) => match[2]!,
  );
}

/**
 * Output that changes from run to run, and how it is written in both the docs and the actual
 * output before they are compared. Each rule is anchored to the one line it is about, so
 * nothing else is hidden. (Temporary paths are handled by the caller: the doc's world is a
 * directory standing for `/`.)
 */
export const VOLATILE: readonly {
  readonly why: string;
  readonly line: RegExp;
  readonly as: string;
}[] = [
  {
    why: 'kvlar test: the time the run took',
    line: /^(Duration {4})\d+(\.\d+)? m?s$/,
    as: '$1<duration>',
  },
  {
    why: 'kvlar version: the release',
    line: /^kvlar \d+\.\d+\.\d+(-[\w.]+)?$/,
    as: 'kvlar <version>',
  },
  {
    why: 'kvlar version --json: the release',
    line: /^ {2}"version": "\d+\.\d+\.\d+(-[\w.]+)?"$/,
    as: '  "version": "<version>"',
  },
];

/** Lines as compared: trailing spaces and trailing blank lines dropped, volatile parts replaced. */
export function normaliseLines(lines: readonly string[]): string[] {
  const out = lines.map((line) => {
    const trimmed = line.replace(/\s+$/, '');
    const rule = VOLATILE.find((candidate) => candidate.line.test(trimmed));
    return rule ? trimmed.replace(rule.line, rule.as) : trimmed;
  });
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out;
}

/** A line that is only `...` or `…` in the expected output stands for any number of lines. */
export function isElision(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === '...' || trimmed === '…';
}

export function matchLines(expected: readonly string[], actual: readonly string[]): boolean {
  // memo[i][j]: expected[i..] matches actual[j..]
  const memo = new Map<number, boolean>();
  const match = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (i === expected.length) result = j === actual.length;
    else if (isElision(expected[i]!)) {
      result = false;
      for (let k = j; k <= actual.length && !result; k++) result = match(i + 1, k);
    } else result = j < actual.length && expected[i] === actual[j] && match(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}

/**
 * The expected lines with each elision replaced by the actual lines it covers, where that can be
 * found from both ends: a failure then shows as a diff of the lines that differ only.
 */
export function alignForDiff(expected: readonly string[], actual: readonly string[]): string[] {
  const first = expected.findIndex(isElision);
  if (first === -1) return [...expected];
  let lastIndex = expected.length - 1;
  while (!isElision(expected[lastIndex]!)) lastIndex--;
  const head = expected.slice(0, first);
  const tail = expected.slice(lastIndex + 1);
  if (head.length + tail.length > actual.length) return [...expected];
  const middle = actual.slice(head.length, actual.length - tail.length);
  const inner = expected.slice(first + 1, lastIndex).filter((line) => !isElision(line));
  // One elision, or inner lines all present in order: show the actual middle.
  return inner.length === 0 ? [...head, ...middle, ...tail] : [...expected];
}
