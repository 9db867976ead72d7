import { describe, expect, it } from 'vitest';
import { capYoungGeneration, NEWEST_V8_CHECKED } from './heap.js';

describe('capYoungGeneration', () => {
  it('leaves a V8 newer than the newest checked one as it is', () => {
    expect(capYoungGeneration(`${NEWEST_V8_CHECKED + 1}.0.1.2`)).toBe(false);
    expect(capYoungGeneration('not a version')).toBe(false);
    expect(capYoungGeneration('')).toBe(false);
  });
});
