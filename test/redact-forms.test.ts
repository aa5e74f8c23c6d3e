/**
 * The redactor beyond plain text: a key hidden in base64 at any alignment and in either alphabet, a passthrough
 * client's key only while serving that client, deep values, raw bytes and byte streams with a key split between
 * chunks, and which secrets each of those covers. Every secret here is unique to this file (the registry is
 * process-wide).
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  addSecret,
  base64Forms,
  redact,
  redactBytes,
  redactBytesStream,
  redactValue,
  removeSecret,
  withSecrets,
} from '../src/redact.js';

const KEY = 'sk_live_forms_K3y~0123456789abcdef';
addSecret(KEY, { pin: true });

describe('base64 forms of a pinned key', () => {
  it('are found inside longer base64 text at every byte alignment, in both alphabets', () => {
    for (const prefix of ['', 'a', 'ab', 'abc', 'abcd']) {
      const plain = `${prefix}{"authorization":"Bearer-less ${KEY}","more":"text after the key"}`;
      for (const encoding of ['base64', 'base64url'] as const) {
        const encoded = Buffer.from(plain).toString(encoding);
        const out = redact(`payload=${encoded};`);
        expect(out, `${encoding}, ${prefix.length} leading bytes`).toContain('[redacted]');
        for (const form of base64Forms(KEY)) expect(out).not.toContain(form);
        // Only the key's part is replaced: the text around it survives.
        expect(out.startsWith('payload=')).toBe(true);
        expect(out.endsWith(';')).toBe(true);
      }
    }
  });

  it('are only the characters that depend on the key alone, and none shorter than 12', () => {
    const forms = base64Forms('0123456789abcdefghij');
    expect(forms.length).toBeGreaterThan(0);
    for (const f of forms) {
      expect(f.length).toBeGreaterThanOrEqual(12);
      // Whatever bytes come before, the form appears in the encoding of prefix + key.
      const found = ['', 'x', 'xy'].some((p) =>
        [
          Buffer.from(`${p}0123456789abcdefghij!`).toString('base64'),
          Buffer.from(`${p}0123456789abcdefghij!`).toString('base64url'),
        ].some((e) => e.includes(f)),
      );
      expect(found, f).toBe(true);
    }
    expect(base64Forms('abcdefgh')).toEqual([]);
    // The URL alphabet differs where the standard one has + and /.
    const slashy = base64Forms('\u00ff\u00fe\u00fd\u00fc\u00fb\u00fa\u00f9\u00f8\u00f7\u00f6\u00f5\u00f4');
    expect(slashy.some((f) => /[+/]/.test(f))).toBe(true);
    expect(slashy.some((f) => /[-_]/.test(f))).toBe(true);
  });

  it('leave other base64 alone, and stop once the key is removed', () => {
    const other = Buffer.from('nothing secret in here at all, just words').toString('base64');
    expect(redact(other)).toBe(other);
    const temp = 'sk_live_forms_temporary_0123456789';
    addSecret(temp, { pin: true });
    const encoded = Buffer.from(`xx${temp}yy`).toString('base64');
    expect(redact(encoded)).toContain('[redacted]');
    removeSecret(temp);
    expect(redact(encoded)).toBe(encoded);
    expect(redact(temp)).toBe(temp);
  });
});

describe('secrets of the client being served', () => {
  it('are redacted inside withSecrets, through awaits, and nowhere else', async () => {
    const clientKey = 'sk_client_forms_0123456789';
    const inside = await withSecrets([clientKey], async () => {
      // Across a turn of the event loop (not a wait for anything).
      await new Promise((r) => setImmediate(r));
      return redact(`key ${clientKey}`);
    });
    expect(inside).toBe('key [redacted]');
    expect(redact(`key ${clientKey}`)).toBe(`key ${clientKey}`);
    expect(withSecrets([clientKey], () => redactValue({ nested: [clientKey] }))).toEqual({ nested: ['[redacted]'] });
  });

  it('ignore values too short to be worth replacing', () => {
    expect(withSecrets(['abcde', ''], () => redact('abcde and more'))).toBe('abcde and more');
    expect(withSecrets(['abcdef'], () => redact('abcdef and more'))).toBe('[redacted] and more');
  });
});

describe('argument secrets', () => {
  it('a secret seen again becomes the newest, so it outlives older ones', () => {
    addSecret('forms-arg-kept-0123');
    for (let i = 0; i < 1000; i++) addSecret(`forms-arg-fill-a-${i}`);
    addSecret('forms-arg-kept-0123');
    for (let i = 0; i < 1500; i++) addSecret(`forms-arg-fill-b-${i}`);
    expect(redact('forms-arg-kept-0123')).toBe('[redacted]');
    expect(redact('forms-arg-fill-a-0!')).toBe('forms-arg-fill-a-0!');
  });

  it('a pinned key given again as an argument secret stays pinned', () => {
    const pinnedKey = 'sk_live_forms_pinned_again_0123';
    addSecret(pinnedKey, { pin: true });
    addSecret(pinnedKey);
    for (let i = 0; i < 2100; i++) addSecret(`forms-arg-push-${i}`);
    expect(redact(pinnedKey)).toBe('[redacted]');
    // Pinned keys are found in bytes; argument secrets are not (they are never sent back as bytes).
    expect(redactBytes(Buffer.from(`<${pinnedKey}>`)).toString()).toBe('<[redacted]>');
    expect(redactBytes(Buffer.from('<forms-arg-push-2099>')).toString()).toBe('<forms-arg-push-2099>');
  });

  it('ignores non-strings and values shorter than 6 characters', () => {
    addSecret(undefined);
    addSecret(null);
    addSecret('five!');
    expect(redact('five! stays')).toBe('five! stays');
  });
});

describe('JSON-escaped forms of a secret with a quote or a backslash', () => {
  it('are redacted escaped once and twice, in text and in the structured value behind it', () => {
    const secret = 'forms\\user"q\n0123';
    addSecret(secret);
    const quoted = `website says: no account ${JSON.stringify(secret)}`;
    const answer = { error: quoted };
    const text = JSON.stringify(answer);
    expect(text).not.toContain(secret);
    expect(redact(text)).toBe(JSON.stringify({ error: 'website says: no account "[redacted]"' }));
    expect(redactValue(answer)).toEqual({ error: 'website says: no account "[redacted]"' });
    expect(redact(JSON.stringify({ raw: secret }))).toBe('{"raw":"[redacted]"}');
    removeSecret(secret);
    expect(redact(text)).toBe(text);
  });

  it('are forgotten with the secret when it is evicted', () => {
    const secret = 'forms-evicted"0123';
    addSecret(secret);
    const escaped = JSON.stringify(secret).slice(1, -1);
    expect(redact(escaped)).toBe('[redacted]');
    for (let i = 0; i < 2100; i++) addSecret(`forms-arg-evict-${i}`);
    expect(redact(escaped)).toBe(escaped);
  });
});

describe('bearer tokens and deep values', () => {
  it('redacts any bearer token of 6+ characters, whatever it is', () => {
    expect(redact('Authorization: Bearer  tok-en_12.34~+/=')).toBe('Authorization: Bearer  [redacted]');
    expect(redact('Bearer abc12')).toBe('Bearer abc12');
    expect(redact('Bearer abc123')).toBe('Bearer [redacted]');
  });

  it('redacts every string in arrays and objects, and keeps other values', () => {
    const value = { a: [`x ${KEY} y`, { b: KEY }], n: 1, t: true, z: null, s: 'plain' };
    expect(redactValue(value)).toEqual({
      a: ['x [redacted] y', { b: '[redacted]' }],
      n: 1,
      t: true,
      z: null,
      s: 'plain',
    });
    expect(redactValue(`${KEY}`)).toBe('[redacted]');
    expect(redactValue(42)).toBe(42);
    expect(redact('')).toBe('');
  });
});

describe('bytes', () => {
  it('replaces every occurrence of a pinned key and returns the same buffer when there is none', () => {
    const bytes = Buffer.concat([
      Buffer.from([0, 255]),
      Buffer.from(KEY),
      Buffer.from('mid'),
      Buffer.from(KEY),
      Buffer.from([1]),
    ]);
    const out = redactBytes(bytes);
    expect(out.includes(Buffer.from(KEY))).toBe(false);
    expect(out).toEqual(
      Buffer.concat([Buffer.from([0, 255]), Buffer.from('[redacted]mid[redacted]'), Buffer.from([1])]),
    );
    const clean = Buffer.from([1, 2, 3, 4]);
    expect(redactBytes(clean)).toBe(clean);
  });

  it('finds a key split between two chunks of a stream, and loses no byte', async () => {
    const body = Buffer.from(`head ${KEY} tail, then ${KEY}`);
    const cut = body.indexOf(KEY) + 7;
    const chunks = [body.subarray(0, cut), body.subarray(cut, cut + 3), body.subarray(cut + 3)];
    const out = await buffer(Readable.from(chunks).pipe(redactBytesStream()));
    expect(out.toString()).toBe('head [redacted] tail, then [redacted]');
    const plain = Buffer.from('no key in these bytes at all');
    expect(await buffer(Readable.from([plain.subarray(0, 5), plain.subarray(5)]).pipe(redactBytesStream()))).toEqual(
      plain,
    );
  });
});
