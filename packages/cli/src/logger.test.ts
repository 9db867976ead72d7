import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function collect() {
  const written: string[] = [];
  return { written, stream: { write: (text: string) => written.push(text) } };
}

describe('createLogger', () => {
  it('writes every message as is, one line each, repeated ones included', () => {
    const { written, stream } = collect();
    const logger = createLogger(stream, { debug: false });
    for (let i = 0; i < 10; i++) logger.error('a.yaml:1:1: error: same');
    logger.warn('⚠ careful');
    expect(written).toEqual([...Array(10).fill('a.yaml:1:1: error: same\n'), '⚠ careful\n']);
  });

  it('shows debug messages only when asked', () => {
    const quiet = collect();
    createLogger(quiet.stream, { debug: false }).debug('detail');
    expect(quiet.written).toEqual([]);
    const verbose = collect();
    createLogger(verbose.stream, { debug: true }).debug('detail');
    expect(verbose.written).toEqual(['detail\n']);
  });
});
