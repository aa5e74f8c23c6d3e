/** Decoding base64 process output to text, and the exec view an agent reads at a glance. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeB64Fields, execView, utf8Text } from '../src/kernel/text.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('decodeB64Fields', () => {
  it('replaces x_b64 with the decoded UTF-8 text x, recursively', () => {
    expect(decodeB64Fields({ stream: 'stdout', data_b64: b64('héllo\n') })).toEqual({
      stream: 'stdout',
      data: 'héllo\n',
    });
    expect(decodeB64Fields([{ inner: { stderr_b64: b64('e') } }])).toEqual([{ inner: { stderr: 'e' } }]);
  });

  it('keeps base64 where the bytes are not UTF-8 text, and says so', () => {
    const raw = b64(Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    expect(decodeB64Fields({ data_b64: raw })).toEqual({
      data_b64: raw,
      data_note: 'not valid UTF-8 text: kept as base64',
    });
  });

  it('leaves other values alone', () => {
    expect(decodeB64Fields({ a: 1, b64: 'x', n: null })).toEqual({ a: 1, b64: 'x', n: null });
  });

  // The plain definition: every object copied, each x_b64 field replaced in its place.
  const copying = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(copying);
    if (!value || typeof value !== 'object') return value;
    const entries: [string, unknown][] = [];
    for (const [k, v] of Object.entries(value)) {
      if (k.endsWith('_b64') && k.length > 4 && typeof v === 'string') {
        const text = Buffer.from(v, 'base64').toString('utf8');
        const valid = Buffer.from(text, 'utf8').equals(Buffer.from(v, 'base64')) && !text.includes('\0');
        if (valid) entries.push([k.slice(0, -4), text.replace(/^\uFEFF/, '')]);
        else entries.push([k, v], [`${k.slice(0, -4)}_note`, 'not valid UTF-8 text: kept as base64']);
      } else entries.push([k, copying(v)]);
    }
    return Object.fromEntries(entries);
  };
  const withB64 = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 1 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(
        fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('data_b64', 'stdout_b64', '_b64', '__proto__')),
        fc.oneof(
          tie('value'),
          fc.string().map(b64),
          fc.uint8Array({ maxLength: 8 }).map((u) => b64(Buffer.from(u))),
        ),
        { maxKeys: 5 },
      ),
    ),
  })).value;

  it('answers what copying every object would, keys in the same order, and never changes its input', () => {
    fc.assert(
      fc.property(withB64, (value) => {
        const before = JSON.stringify(value);
        const got = decodeB64Fields(value);
        expect(JSON.stringify(got)).toBe(JSON.stringify(copying(value)));
        expect(JSON.stringify(value)).toBe(before);
      }),
      { numRuns: 500 },
    );
  });

  it('returns the very value when it holds no x_b64 field, and copies only the path to one that does', () => {
    const parsed = JSON.parse('{"a":[{"b":1},{"c":{"d":"e"}}],"f":{"g":2},"__proto__":{"h":3}}');
    expect(decodeB64Fields(parsed)).toBe(parsed);
    const withOne = JSON.parse(`{"a":[{"b":1},{"out":{"stdout_b64":"${b64('hi')}"}}],"f":{"g":2},"__proto__":{"h":3}}`);
    const got = decodeB64Fields(withOne) as { a: Record<string, unknown>[] & { 1: { out: unknown } }; f: unknown };
    expect(got).not.toBe(withOne);
    expect(got.a[0]).toBe(withOne.a[0]);
    expect(got.f).toBe(withOne.f);
    expect(got.a[1].out).toEqual({ stdout: 'hi' });
    // __proto__ stays an own field (JSON.parse made it one), not the copy's prototype.
    expect(Object.keys(got)).toEqual(['a', 'f', '__proto__']);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(JSON.stringify(got)).toBe(`{"a":[{"b":1},{"out":{"stdout":"hi"}}],"f":{"g":2},"__proto__":{"h":3}}`);
  });
});

describe('utf8Text', () => {
  // What an answer's bytes mean as text, by the WHATWG decoder: strict UTF-8, a leading byte-order mark dropped.
  const whatwg = (bytes: Uint8Array) => {
    if (bytes.includes(0)) return undefined;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return undefined;
    }
  };

  it('decodes UTF-8 (ASCII and not), drops a leading byte-order mark, and refuses NUL bytes and bad UTF-8', () => {
    expect(utf8Text(Buffer.from('plain ascii\n'))).toBe('plain ascii\n');
    expect(utf8Text(Buffer.from('héllo ✓ 😀'))).toBe('héllo ✓ 😀');
    expect(utf8Text(Buffer.from('\uFEFFbom then text é'))).toBe('bom then text é');
    expect(utf8Text(Buffer.from('\uFEFFascii'))).toBe('ascii');
    expect(utf8Text(Buffer.from('a\uFEFF'))).toBe('a\uFEFF');
    expect(utf8Text(new Uint8Array(0))).toBe('');
    expect(utf8Text(Buffer.from('a\0b'))).toBeUndefined();
    for (const bad of [
      [0xc3, 0x28],
      [0xed, 0xa0, 0x80],
      [0xc0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
      [0xff],
    ]) {
      expect(utf8Text(Buffer.from(bad))).toBeUndefined();
    }
  });

  it('reads a view into a larger buffer by its own bytes only', () => {
    const whole = Buffer.from('xxhello\0');
    expect(utf8Text(whole.subarray(2, 7))).toBe('hello');
    expect(utf8Text(new Uint8Array(whole.buffer, whole.byteOffset + 2, 5))).toBe('hello');
  });

  it('agrees with the WHATWG decoder on any bytes', () => {
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 8 }).map((s) => Buffer.from(s)),
      fc
        .constantFrom(
          [0xef, 0xbb, 0xbf],
          [0xed, 0xa0, 0x80],
          [0xf0, 0x9f, 0x98, 0x80],
          [0xe2, 0x82],
          [0xc3, 0xa9],
          [0x80],
          [0x00],
        )
        .map((b) => Uint8Array.from(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
        const bytes = Buffer.concat(pieces);
        expect(utf8Text(bytes)).toBe(whatwg(bytes));
      }),
      { seed: 15, numRuns: 2000 },
    );
  });
});

describe('execView', () => {
  it('puts the status first: ok, or the failing exit code with the first stderr line', () => {
    expect(execView({ exit_code: 0, stdout_b64: b64('hi\n'), stderr_b64: '' })).toEqual({
      status: 'ok',
      exit_code: 0,
      stdout: 'hi\n',
      stderr: '',
    });
    const failed = execView({ exit_code: 127, stdout_b64: '', stderr_b64: b64('sh: 1: nope: not found\nmore\n') });
    expect(Object.keys(failed)[0]).toBe('status');
    expect(failed.status).toBe('failed: exit code 127 (sh: 1: nope: not found)');
  });
});
