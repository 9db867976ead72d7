/** docs/embedding.md shows examples/embed-proxy/index.mjs: the two must not drift, and it runs. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function codeBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const pattern = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (const match of markdown.matchAll(pattern)) blocks.push(match[1] ?? '');
  return blocks;
}

describe('docs/embedding.md', () => {
  it('shows the example exactly as it is in examples/embed-proxy', async () => {
    const doc = await readFile(`${root}docs/embedding.md`, 'utf8');
    const example = await readFile(`${root}examples/embed-proxy/index.mjs`, 'utf8');
    expect(codeBlocks(doc, 'js')[0]).toBe(example);
  });

  it('runs the example and prints what the page says it prints', async () => {
    const doc = await readFile(`${root}docs/embedding.md`, 'utf8');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['index.mjs'], {
      cwd: `${root}examples/embed-proxy`,
      timeout: 20_000,
    });
    expect(stderr).toBe('');
    expect(stdout).toBe(codeBlocks(doc, 'text')[0]);
  });
});
