/**
 * The address rules and allow-lists behind the HTTP guards, edge by edge (each case here once let a mutant of
 * src/http/addresses.ts or guards.ts survive): loopback and wildcard addresses, IPv6 in URLs, the Host list's
 * defaults, parsing and ports, and the Origin list's entries.
 */
import { describe, expect, it } from 'vitest';
import { HostAllowList, hostForUrl, isLoopbackHost, isWildcardHost, OriginAllowList } from '../src/http/guards.js';

describe('addresses', () => {
  it('knows loopback addresses in every spelling', () => {
    for (const h of ['LOCALHOST', '[::1]', '0:0:0:0:0:0:0:1', '[0:0:0:0:0:0:0:1]', '127.255.0.1', '::ffff:127.9.9.9']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of [
      '[::2]',
      '::ffff:10.0.0.1',
      '10.127.0.1',
      'localhost.example',
      '1.127.0.0',
      '',
      '::1]x',
      'x[::1',
      // Names whose eighth character starts "127." (as an IPv4-mapped address would after "::ffff:").
      'attack.127.0.0.1.nip.io',
      'rebind.127.example',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('knows the wildcard addresses, bracketed or not', () => {
    for (const h of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0', '[0:0:0:0:0:0:0:0]']) {
      expect(isWildcardHost(h), h).toBe(true);
    }
    for (const h of ['127.0.0.1', '0.0.0.1', '::1', '[::1]', '', 'localhost', '0.0.0.0]x', 'x[0.0.0.0']) {
      expect(isWildcardHost(h), h).toBe(false);
    }
  });

  it('brackets IPv6 literals for URLs and leaves the rest', () => {
    expect(hostForUrl('::1')).toBe('[::1]');
    expect(hostForUrl('fe80::1')).toBe('[fe80::1]');
    expect(hostForUrl('127.0.0.1')).toBe('127.0.0.1');
    expect(hostForUrl('example.com')).toBe('example.com');
  });
});

describe('HostAllowList', () => {
  it('defaults to the loopback names for a loopback bind, else the bind address, with the port', () => {
    expect(HostAllowList.defaults('127.0.0.1', 3333)).toEqual(['localhost:3333', '127.0.0.1:3333', '[::1]:3333']);
    expect(HostAllowList.defaults('::1', 80)).toEqual(['localhost:80', '127.0.0.1:80', '[::1]:80']);
    expect(HostAllowList.defaults('10.0.0.5', 3333)).toEqual(['10.0.0.5:3333']);
    expect(HostAllowList.defaults('fd00::5', 3333)).toEqual(['[fd00::5]:3333']);
  });

  it('trims entries, ignores ones that are not a host, and compares names case-insensitively', () => {
    const hosts = new HostAllowList([' mcp.example.com:443 ', 'user@evil.example', 'evil.example/path', '']);
    expect(hosts.any).toBe(false);
    expect(hosts.allows('MCP.Example.com:443')).toBe(true);
    expect(hosts.allows('evil.example')).toBe(false);
    expect(hosts.allows('evil.example:80')).toBe(false);
    expect(hosts.allows(undefined)).toBe(false);
    expect(hosts.allows('')).toBe(false);
    expect(hosts.allows('mcp.example.com:443/x')).toBe(false);
    expect(hosts.allows('u:p@mcp.example.com:443')).toBe(false);
  });

  it('matches an entry without a port on any port, and a Host without a port as port 80 (an entry with :80 too)', () => {
    const hosts = new HostAllowList(['any.example', 'web.example:80', '[::1]:3333']);
    expect(hosts.allows('any.example:1234')).toBe(true);
    expect(hosts.allows('any.example')).toBe(true);
    expect(hosts.allows('web.example')).toBe(true);
    expect(hosts.allows('web.example:8080')).toBe(false);
    expect(hosts.allows('[::1]:3333')).toBe(true);
    expect(hosts.allows('[::1]')).toBe(false);
    // Port 80 written with leading zeros is still port 80, in an entry or a header.
    const padded = new HostAllowList(['web.example:080', 'other.example:0080']);
    expect(padded.allows('web.example')).toBe(true);
    expect(padded.allows('web.example:80')).toBe(true);
    expect(padded.allows('other.example:00080')).toBe(true);
    expect(padded.allows('other.example:8080')).toBe(false);
  });

  it('answers a Host it has seen the same way again, past the number it remembers, allowed or not', () => {
    const hosts = new HostAllowList(['mcp.example.com:443']);
    // More distinct hostile values than it keeps answers for, each asked twice.
    for (let i = 0; i < 200; i++) {
      expect(hosts.allows(`h${i}.evil.example`)).toBe(false);
      expect(hosts.allows(`h${i}.evil.example`)).toBe(false);
    }
    for (let i = 0; i < 3; i++) {
      expect(hosts.allows('MCP.example.com:443')).toBe(true);
      expect(hosts.allows('mcp.example.com:444')).toBe(false);
    }
  });

  it('allows anything, even no Host, with *', () => {
    const any = new HostAllowList(['localhost:1', '*']);
    expect(any.any).toBe(true);
    expect(any.allows(undefined)).toBe(true);
    expect(any.allows('whatever.example:9')).toBe(true);
  });
});

describe('OriginAllowList', () => {
  it('defaults to the loopback names', () => {
    expect(OriginAllowList.defaults()).toEqual(['localhost', '127.0.0.1', '[::1]']);
  });

  it('takes full origins exactly and bare names on any scheme and port, ignoring blank and broken entries', () => {
    const origins = new OriginAllowList([
      ' https://app.example.com/some/path ',
      ' tools.example.com ',
      '',
      'http://[',
      'x@',
    ]);
    expect(origins.any).toBe(false);
    expect(origins.allows('https://app.example.com')).toBe(true);
    expect(origins.allows('https://app.example.com:8443')).toBe(false);
    expect(origins.allows('http://TOOLS.example.com:1')).toBe(true);
    expect(origins.allows('https://tools.example.com')).toBe(true);
    expect(origins.allows('https://other.example.com')).toBe(false);
    expect(origins.allows('')).toBe(true);
  });

  it('allows every origin with *, and refuses the opaque null origin otherwise', () => {
    expect(new OriginAllowList(['*']).allows('https://anything.example')).toBe(true);
    expect(new OriginAllowList(['*']).any).toBe(true);
    expect(new OriginAllowList(['localhost']).allows('null')).toBe(false);
    expect(new OriginAllowList(['localhost']).allows('file://')).toBe(false);
  });
});
