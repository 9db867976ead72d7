import { KvlarError } from '@kvlar/core';
import { describe, expect, it } from 'vitest';
import { AuditError } from './errors.js';

describe('AuditError', () => {
  it('is recognised by KvlarError.isInstance, so one error boundary handles every Kvlar error', () => {
    const error = new AuditError('audit_torn_line', 'audit.jsonl:3: the last line is torn');
    expect(KvlarError.isInstance(error)).toBe(true);
    expect(AuditError.isInstance(new KvlarError('internal', 'x'))).toBe(true);
    expect(KvlarError.isInstance(new Error('plain'))).toBe(false);
    expect(error).toMatchObject({ code: 'audit_torn_line', name: 'AuditError' });
  });
});
