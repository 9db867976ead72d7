import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { policyJsonSchema } from '@kvlar/core';
import { describe, expect, it } from 'vitest';
import { kvlar, tempDir } from './helpers.js';

const EXPECTED = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;

describe('kvlar schema', () => {
  it('prints the JSON Schema of the policy format with a 2-space indent', async () => {
    const result = await kvlar(['schema'], { cwd: await tempDir() });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(EXPECTED);
    expect(JSON.parse(result.stdout)).toMatchObject({
      type: 'object',
      required: expect.any(Array),
    });
  });

  it('writes the schema to -o FILE, leaving no temporary file behind', async () => {
    const dir = await tempDir({ 'schema.json': 'old content' });
    const result = await kvlar(['schema', '-o', 'schema.json'], { cwd: dir });
    expect(result).toEqual({
      code: 0,
      stdout: '✓ JSON Schema written to schema.json\n',
      stderr: '',
    });
    expect(await readFile(join(dir, 'schema.json'), 'utf8')).toBe(EXPECTED);
    expect(await readdir(dir)).toEqual(['schema.json']);
  });

  it('exits 1 with a message when the file cannot be written', async () => {
    const dir = await tempDir();
    const result = await kvlar(['schema', '--output', 'no/such/dir/schema.json'], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: cannot write no/such/dir/schema.json: no such file or directory\n',
    });
  });
});
