/** The redactor: pinned credentials stay; argument secrets are bounded, newest kept. */
import { describe, expect, it } from 'vitest';
import { addSecret, redact, removeSecret } from '../src/redact.js';

describe('redact', () => {
  it('replaces registered secrets and bearer tokens', () => {
    addSecret('pinned-api-key-123456', { pin: true });
    addSecret('hunter2-password');
    addSecret('short');
    expect(redact('key pinned-api-key-123456 pw hunter2-password short')).toBe('key [redacted] pw [redacted] short');
    expect(redact('Authorization: Bearer abcdefghij')).toBe('Authorization: Bearer [redacted]');
  });

  it('keeps memory bounded: old argument secrets are evicted, pinned credentials never', () => {
    for (let i = 0; i < 2500; i++) addSecret(`argument-secret-${i}`);
    expect(redact('argument-secret-2499')).toBe('[redacted]');
    expect(redact('argument-secret-0!')).toBe('argument-secret-0!');
    expect(redact('pinned-api-key-123456')).toBe('[redacted]');
    removeSecret('pinned-api-key-123456');
    expect(redact('pinned-api-key-123456')).toBe('pinned-api-key-123456');
  });
});
