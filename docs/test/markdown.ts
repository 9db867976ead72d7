/**
 * Finds the fenced code blocks of a Markdown document and the `<!-- doctest: … -->` directives
 * written just before each. Pure: text in, blocks and problems out. The conventions are in
 * docs/README.md.
 */

export interface Block {
  /** The document, relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word, lower-cased ('' when there is none). */
  readonly lang: string;
  /** The block's text, without the fences, the list indentation removed, ending in a newline. */
  readonly content: string;
  readonly directives: readonly Directive[];
}

export type Directive =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fragment'; readonly reason: string }
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'fixture'; readonly path: string }
  | { readonly kind: 'inside'; readonly key: InsideKey }
  | { readonly kind: 'output' };

/** Where a YAML part goes in a policy: see docs/README.md. */
export const INSIDE_KEYS = ['rules', 'rule', 'match_on', 'conditions'] as const;
export type InsideKey = (typeof INSIDE_KEYS)[number];

export interface Extracted {
  readonly blocks: readonly Block[];
  /** `file:line: message` for directives that are misspelt or stand before no block. */
  readonly problems: readonly string[];
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const DIRECTIVE = /^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$/;

export function extractBlocks(text: string, file: string): Extracted {
  const lines = text.split(/\r?\n/);
  const blocks: Block[] = [];
  const problems: string[] = [];
  // Directives seen since the last block, waiting for the next one: [line, directive].
  let pending: { line: number; directives: Directive[] }[] = [];

  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const directive = DIRECTIVE.exec(text);
    if (directive) {
      const parsed = parseDirectives(directive[1]!);
      if (typeof parsed === 'string') problems.push(`${file}:${index + 1}: ${parsed}`);
      else pending.push({ line: index + 1, directives: parsed });
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) {
      if (text.trim() !== '' && pending.length > 0) {
        for (const { line } of pending) {
          problems.push(`${file}:${line}: a doctest directive must come just before a code block`);
        }
        pending = [];
      }
      continue;
    }
    const indent = fence[1]!.length;
    const marker = fence[2]!;
    const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !close.test(lines[end]!)) {
      body.push(stripIndent(lines[end]!, indent));
      end++;
    }
    blocks.push({
      file,
      line: index + 1,
      lang: fence[3]!.toLowerCase(),
      content: body.length === 0 ? '' : `${body.join('\n')}\n`,
      directives: pending.flatMap((entry) => entry.directives),
    });
    pending = [];
    index = end;
  }
  for (const { line } of pending) {
    problems.push(`${file}:${line}: a doctest directive must come just before a code block`);
  }
  return { blocks, problems };
}

function stripIndent(line: string, indent: number): string {
  let strip = 0;
  while (strip < indent && line[strip] === ' ') strip++;
  return line.slice(strip);
}

/**
 * `exit 1; file policy.yaml` → directives, or a message saying what is wrong. The reason of a
 * `skip` or `fragment` runs to the end of the comment, so put those last.
 */
export function parseDirectives(text: string): Directive[] | string {
  const directives: Directive[] = [];
  const parts: string[] = [];
  let rest = text;
  while (rest !== '') {
    const end = /^\s*(skip|fragment)\b/.test(rest) ? -1 : rest.indexOf(';');
    parts.push(end === -1 ? rest : rest.slice(0, end));
    rest = end === -1 ? '' : rest.slice(end + 1);
  }
  for (const part of parts) {
    const match = /^\s*([a-z]+)\b\s*(.*?)\s*$/s.exec(part);
    if (!match) return `unreadable doctest directive "${part.trim()}"`;
    const [, name, argument] = match as unknown as [string, string, string];
    // "skip — reason", "skip: reason", "skip - reason"
    const reason = argument.replace(/^[—–:-]\s*/, '');
    switch (name) {
      case 'skip':
      case 'fragment':
        if (reason === '') return `"${name}" needs a reason: <!-- doctest: ${name} — why -->`;
        directives.push({ kind: name, reason });
        break;
      case 'exit': {
        if (!/^\d{1,3}$/.test(argument)) return `"exit" needs a status: <!-- doctest: exit 1 -->`;
        directives.push({ kind: 'exit', code: Number(argument) });
        break;
      }
      case 'file':
      case 'fixture':
        if (argument === '' || /\s/.test(argument)) {
          return `"${name}" needs one path: <!-- doctest: ${name} policy.yaml -->`;
        }
        directives.push({ kind: name, path: argument });
        break;
      case 'inside': {
        const key = INSIDE_KEYS.find((candidate) => candidate === argument);
        if (key === undefined) return `"inside" takes one of ${INSIDE_KEYS.join(', ')}`;
        directives.push({ kind: 'inside', key });
        break;
      }
      case 'output':
        if (argument !== '') return `"output" takes no argument`;
        directives.push({ kind: 'output' });
        break;
      default:
        return `unknown doctest directive "${name}" (skip, fragment, exit, file, fixture, inside, output)`;
    }
  }
  return directives;
}

export function directive<K extends Directive['kind']>(
  block: Block,
  kind: K,
): Extract<Directive, { kind: K }> | undefined {
  return block.directives.find(
    (entry): entry is Extract<Directive, { kind: K }> => entry.kind === kind,
  );
}
