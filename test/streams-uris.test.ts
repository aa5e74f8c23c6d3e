/**
 * Stream resource URIs: matching, resolution to API requests (checked against the operation's input schema), the
 * event view shared by resources and tools, and the URIs a listen request names.
 */
import { describe, expect, it } from 'vitest';
import { operations } from '../src/generated/kernel-operations.gen.js';
import { listenRequestUris } from '../src/resources/notifications.js';
import {
  eventView,
  parseStreamUri,
  resolveAnyStreamUri,
  STREAM_RESOURCES,
  StreamUriError,
  uriFor,
} from '../src/resources/streams.js';

const PROCESS = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

describe('stream resource definitions', () => {
  it('cover the seven event-stream operations, once each', () => {
    const streamOps = operations.filter((r) => r.answer.kind === 'stream').map((r) => r.operationId);
    expect(streamOps).toHaveLength(7);
    expect(STREAM_RESOURCES.map((d) => d.operationId).sort()).toEqual([...streamOps].sort());
    for (const d of STREAM_RESOURCES) {
      expect(d.title).toBeTruthy();
      expect(d.description.length).toBeGreaterThan(40);
    }
  });
});

describe('resolving URIs', () => {
  it.each([
    ['kernel://browsers/abc/telemetry', '/browsers/abc/telemetry', undefined],
    [
      'kernel://browsers/abc/logs?source=path&path=%2Fvar%2Flog%2Fx.log',
      '/browsers/abc/logs/stream',
      { source: 'path', path: '/var/log/x.log' },
    ],
    [
      'kernel://browsers/abc/logs?supervisor_process=chromium&source=supervisor',
      '/browsers/abc/logs/stream',
      { source: 'supervisor', supervisor_process: 'chromium' },
    ],
    [`kernel://browsers/abc/processes/${PROCESS}/output`, `/browsers/abc/process/${PROCESS}/stdout/stream`, undefined],
    ['kernel://browsers/abc/fs/watches/w1/events', '/browsers/abc/fs/watch/w1/events', undefined],
    ['kernel://invocations/inv%201/events', '/invocations/inv%201/events', undefined],
    ['kernel://deployments/d1/events', '/deployments/d1/events', undefined],
    ['kernel://auth/connections/ma_1/events', '/auth/connections/ma_1/events', undefined],
  ])('%s -> GET %s', (uri, path, query) => {
    const r = resolveAnyStreamUri(uri);
    expect(r.request.path).toBe(path);
    expect(r.request.query).toEqual(query);
    expect(r.after).toBeUndefined();
  });

  it('takes an `after` cursor on any stream URI', () => {
    expect(resolveAnyStreamUri('kernel://browsers/abc/telemetry?after=42').after).toBe(42);
    expect(resolveAnyStreamUri('kernel://browsers/b/logs?source=path&path=/x&after=7').after).toBe(7);
    expect(() => resolveAnyStreamUri('kernel://browsers/abc/telemetry?after=soon')).toThrow(/after must be/);
  });

  it('rejects what is not a stream resource, with the reason', () => {
    expect(parseStreamUri('kernel://browsers/abc')).toBeNull();
    expect(parseStreamUri('kernel://browsers//telemetry')).toBeNull();
    expect(parseStreamUri('https://browsers/abc/telemetry')).toBeNull();
    expect(() => resolveAnyStreamUri('kernel://nothing/here')).toThrow(StreamUriError);
    expect(() => resolveAnyStreamUri('kernel://browsers/abc/telemetry?x=1')).toThrow(/unknown query parameter "x"/);
    // The operation's input schema: logs need a source, process ids are UUIDs.
    expect(() => resolveAnyStreamUri('kernel://browsers/abc/logs')).toThrow(/source/);
    expect(() => resolveAnyStreamUri('kernel://browsers/abc/logs?source=disk')).toThrow(/source/);
    expect(() => resolveAnyStreamUri('kernel://browsers/abc/processes/not-a-uuid/output')).toThrow(/process_id/);
  });

  it('builds the URIs listed for live parents', () => {
    const telemetry = STREAM_RESOURCES.find((d) => d.name === 'browser-telemetry');
    expect(telemetry && uriFor(telemetry, { id: 'a b' })).toBe('kernel://browsers/a%20b/telemetry');
    expect(telemetry && parseStreamUri(uriFor(telemetry, { id: 'a b' }))?.vars).toEqual({ id: 'a b' });
  });
});

describe('event view', () => {
  it('keeps the telemetry envelope and wraps other data as {seq, data}', () => {
    const envelope = { seq: 4, event: { type: 'console_log' } };
    expect(eventView({ seq: 4, data: envelope }, true)).toBe(envelope);
    expect(eventView({ seq: 5, data: 'raw' }, true)).toEqual({ seq: 5, event: 'raw' });
    expect(eventView({ seq: 6, data: { event: 'log', message: 'm' } }, false)).toEqual({
      seq: 6,
      data: { event: 'log', message: 'm' },
    });
    expect(eventView({ seq: 7, data: 1, type: 'state' }, false)).toEqual({ seq: 7, type: 'state', data: 1 });
  });
});

describe('listen requests', () => {
  it('parses listen requests', () => {
    const listen = {
      jsonrpc: '2.0',
      id: 3,
      method: 'subscriptions/listen',
      params: { notifications: { resourceSubscriptions: ['kernel://a', 7] } },
    };
    expect(listenRequestUris(listen)).toEqual(['kernel://a']);
    expect(listenRequestUris({ ...listen, params: { notifications: { toolsListChanged: true } } })).toEqual([]);
    expect(listenRequestUris({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBeUndefined();
  });
});
