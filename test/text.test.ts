/** Decoding base64 process output to text, and the exec view an agent reads at a glance. */
import { describe, expect, it } from 'vitest';
import { decodeB64Fields, execView } from '../src/kernel/text.js';

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
