import { describe, expect, it } from 'vitest';
import { extractBlocks, parseDirectives } from './markdown.js';
import { alignForDiff, matchLines, normaliseLines, parseTranscript } from './transcript.js';

describe('extractBlocks', () => {
  it('finds fenced blocks with their line, language and the directives just before them', () => {
    const text = [
      '# Title',
      '',
      '<!-- doctest: exit 1 -->',
      '<!-- doctest: file policy.yaml -->',
      '',
      '```console',
      '$ kvlar version',
      '```',
      '',
      '```',
      'plain',
      '```',
    ].join('\n');
    const { blocks, problems } = extractBlocks(text, 'doc.md');
    expect(problems).toEqual([]);
    expect(blocks).toEqual([
      {
        file: 'doc.md',
        line: 6,
        lang: 'console',
        content: '$ kvlar version\n',
        directives: [
          { kind: 'exit', code: 1 },
          { kind: 'file', path: 'policy.yaml' },
        ],
      },
      { file: 'doc.md', line: 10, lang: '', content: 'plain\n', directives: [] },
    ]);
  });

  it('keeps a shorter fence inside a longer one as content, and strips list indentation', () => {
    const text = ['- item', '  ````markdown', '  ```js', '  x', '  ```', '  ````'].join('\n');
    const { blocks } = extractBlocks(text, 'doc.md');
    expect(blocks.map((block) => [block.lang, block.content])).toEqual([
      ['markdown', '```js\nx\n```\n'],
    ]);
  });

  it('reports a directive that stands before prose instead of a block', () => {
    const text = ['<!-- doctest: skip — later -->', 'Some prose.', '```sh', 'ls', '```'].join('\n');
    const { blocks, problems } = extractBlocks(text, 'doc.md');
    expect(problems).toEqual(['doc.md:1: a doctest directive must come just before a code block']);
    expect(blocks[0]!.directives).toEqual([]);
  });

  it('does not read directives inside code blocks', () => {
    const text = [
      '```markdown',
      '<!-- doctest: skip — shown -->',
      '```',
      '```sh',
      'ls',
      '```',
    ].join('\n');
    const { blocks, problems } = extractBlocks(text, 'doc.md');
    expect(problems).toEqual([]);
    expect(blocks[1]!.directives).toEqual([]);
  });
});

describe('parseDirectives', () => {
  it('reads a skip reason to the end, semicolons included', () => {
    expect(parseDirectives('exit 2; skip — needs a proxy; and a client')).toEqual([
      { kind: 'exit', code: 2 },
      { kind: 'skip', reason: 'needs a proxy; and a client' },
    ]);
  });

  it('refuses a skip without a reason and an unknown directive', () => {
    expect(parseDirectives('skip')).toMatch(/needs a reason/);
    expect(parseDirectives('exits 1')).toMatch(/unknown doctest directive "exits"/);
    expect(parseDirectives('inside policy')).toMatch(/takes one of/);
  });
});

describe('parseTranscript', () => {
  it('splits commands from their output, with continuations and here-documents', () => {
    const content = [
      '$ kvlar evaluate -p policy.yaml \\',
      '    --resource bash',
      '✗ DENY (rule: deny-shell)',
      "$ kvlar serve --stdio -p policy.yaml <<'EOF'",
      '{"id": 1, "tool": "bash"}',
      'EOF',
      '{"id":1,"decision":"deny"}',
      '$ true',
    ].join('\n');
    expect(parseTranscript(`${content}\n`)).toEqual([
      {
        offset: 0,
        text: 'kvlar evaluate -p policy.yaml \\\n    --resource bash',
        expected: ['✗ DENY (rule: deny-shell)'],
      },
      {
        offset: 3,
        text: 'kvlar serve --stdio -p policy.yaml <<\'EOF\'\n{"id": 1, "tool": "bash"}\nEOF',
        expected: ['{"id":1,"decision":"deny"}'],
      },
      { offset: 7, text: 'true', expected: [] },
    ]);
  });

  it('refuses output before the first command', () => {
    expect(parseTranscript('output\n$ ls\n')).toMatch(/must start/);
  });
});

describe('matching output', () => {
  it('lets a line of ... stand for any number of lines, none included', () => {
    expect(matchLines(['{', '...', '}'], ['{', 'a', 'b', '}'])).toBe(true);
    expect(matchLines(['{', '  ...', '}'], ['{', '}'])).toBe(true);
    expect(matchLines(['{', '...', 'x', '...', '}'], ['{', 'a', 'x', 'b', '}'])).toBe(true);
    expect(matchLines(['{', '...', 'x', '}'], ['{', 'a', '}'])).toBe(false);
    expect(matchLines(['a'], ['a', 'b'])).toBe(false);
  });

  it('ignores trailing spaces and blank lines, and normalises only the volatile lines it knows', () => {
    expect(normaliseLines(['Duration    58 ms  ', 'kvlar 0.1.0', '', ''])).toEqual([
      'Duration    <duration>',
      'kvlar <version>',
    ]);
    expect(normaliseLines(['took 58 ms', '  "version": "1.0"'])).toEqual([
      'took 58 ms',
      '  "version": "1.0"',
    ]);
  });

  it('fills an elision with the actual lines, so that a diff shows only what differs', () => {
    expect(alignForDiff(['{', '...', '}', 'end'], ['{', 'a', '}', 'END'])).toEqual([
      '{',
      'a',
      '}',
      'end',
    ]);
  });
});
