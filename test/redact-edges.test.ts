/**
 * The redactor at its edges (src/redact.ts): the shortest secret it takes, the shortest base64 form it looks for, a
 * key's whole base64 text in both alphabets, the exact bound of remembered argument secrets, and a key at the very
 * start of a binary answer. From the surviving mutants of redact.ts. Secrets are unique to this file (the registry is
 * process-wide) and removed after each test.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addSecret, base64Forms, redact, redactBytes, removeSecret } from '../src/redact.js';

const added: string[] = [];
function pin(secret: string) {
  added.push(secret);
  addSecret(secret, { pin: true });
}
afterEach(() => {
  for (const s of added.splice(0)) removeSecret(s);
});

describe('what is worth redacting', () => {
  it('a secret of 6 characters is redacted, one of 5 is not', () => {
    const six = randomUUID().slice(0, 6);
    const five = randomUUID().slice(0, 5);
    addSecret(six);
    addSecret(five);
    added.push(six, five);
    expect(redact(`a ${six} b`)).toBe('a [redacted] b');
    expect(redact(`a ${five} b`)).toBe(`a ${five} b`);
  });

  it('a 9-character key has a 12-character base64 form, the shortest looked for', () => {
    const key = `k${randomUUID().slice(0, 8)}`;
    pin(key);
    const encoded = Buffer.from(key).toString('base64');
    expect(encoded.length).toBe(12);
    expect(base64Forms(key)).toContain(encoded);
    expect(redact(`x ${encoded} y`)).toBe('x [redacted] y');
  });
});

describe('base64 of a whole key', () => {
  it('is redacted whole, in the standard and the URL alphabet', () => {
    // Its base64 holds both '+' and '/', the characters the two alphabets write differently.
    const key = 'sk_000000~~~>>>???';
    pin(key);
    const standard = Buffer.from(key).toString('base64');
    expect(standard).toBe('c2tfMDAwMDAwfn5+Pj4+Pz8/');
    const url = Buffer.from(key).toString('base64url');
    expect(redact(standard)).toBe('[redacted]');
    expect(redact(url)).toBe('[redacted]');
    expect(redact(`token=${url}&next=1`)).toBe('token=[redacted]&next=1');
  });
});

describe('remembered argument secrets', () => {
  it('are the last 2000: the 2000th newest is still redacted, the 2001st is not', () => {
    const run = randomUUID().slice(0, 8);
    const secrets = Array.from({ length: 2001 }, (_, i) => `arg-${run}-${i}`);
    for (const s of secrets.slice(0, 2000)) addSecret(s);
    expect(redact(secrets[0]!)).toBe('[redacted]');
    addSecret(secrets[2000]!);
    expect(redact(secrets[0]!)).toBe(secrets[0]);
    expect(redact(secrets[1]!)).toBe('[redacted]');
    for (const s of secrets) removeSecret(s);
  });
});

describe('bytes', () => {
  it('a key at the very start, and at the very end, of a binary answer is replaced', () => {
    const key = `sk_bytes_${randomUUID()}`;
    pin(key);
    const start = redactBytes(Buffer.concat([Buffer.from(key), Buffer.from([0, 1])]));
    expect([...start]).toEqual([...Buffer.from('[redacted]'), 0, 1]);
    const end = redactBytes(Buffer.concat([Buffer.from([2]), Buffer.from(key)]));
    expect(end.toString()).toBe('\u0002[redacted]');
    const twice = redactBytes(Buffer.from(`${key}${key}`));
    expect(twice.toString()).toBe('[redacted][redacted]');
  });
});
