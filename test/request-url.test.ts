/** A request's URL built as text where that is safe: the same URL that new URL() makes, for any path and query. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type QueryValue, requestUrl } from '../src/kernel/client.js';

/** The plain definition: everything through URL(). */
function viaUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(baseUrl + (path.startsWith('/') ? path : `/${path}`));
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) url.searchParams.append(k, String(item));
    else url.searchParams.set(k, String(v));
  }
  return url.toString();
}

const bases = [
  'http://127.0.0.1:4010',
  'https://api.onkernel.com',
  'https://api.example.com/v1',
  'http://LOCALHOST:80/base', // not in URL's own form: lower-cased, port dropped
  'https://api.example.com/a b', // a space URL escapes
];
const pathChar = fc.oneof(
  fc.constantFrom(..."abcXYZ019-._~!$&'()*+,;=:@%/"),
  fc.constantFrom(' ', '?', '#', '\\', '"', '<', '>', '`', '{', '}', '|', '^', '[', ']', 'é', '☃', '\u0000', '\t'),
);
const value = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
);

describe('requestUrl', () => {
  it('is what new URL() makes of the base, path and query', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...bases),
        fc.array(pathChar, { maxLength: 24 }).map((cs) => cs.join('')),
        fc.option(fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 4 }), { nil: undefined }),
        (base, path, query) => {
          expect(requestUrl(base, path, query)).toBe(viaUrl(base, path, query));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('builds the usual tool request as text, query encoded as a form', () => {
    expect(requestUrl('http://127.0.0.1:4010', '/browsers/abc/fs/read_file', { path: '/tmp/a b&c.txt' })).toBe(
      'http://127.0.0.1:4010/browsers/abc/fs/read_file?path=%2Ftmp%2Fa+b%26c.txt',
    );
    expect(requestUrl('https://api.example.com/v1', 'browsers', { tags: ['x', 'y'], gone: undefined, none: [] })).toBe(
      'https://api.example.com/v1/browsers?tags=x&tags=y',
    );
  });
});
