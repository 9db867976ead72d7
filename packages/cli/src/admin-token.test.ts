import { describe, expect, it } from 'vitest';
import { newAdminToken } from './admin-token.js';

describe('newAdminToken', () => {
  it('makes 48 hex digits, so that no token reads as a flag on a command line', () => {
    const tokens = Array.from({ length: 2000 }, newAdminToken);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});
