/**
 * Stream resources over HTTP, both eras: the HTTP entry hands the resource layer its listen streams and notifier
 * (2026-07-28), or keeps a session's server instance (2025); either way a subscription opens the upstream stream,
 * updates arrive, and unsubscribing closes it. (The HTTP transport's own behaviour is tested elsewhere.)
 */
import type { Client as ModernClient } from '@modelcontextprotocol/client';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../simulator/index.js';
import { connectHttp, startHttp } from './helpers/http.js';
import { ERAS } from './helpers/mcp.js';
import { until } from './hub-fixtures.js';

const KEY = 'sk_streams_http_0123456789';

describe.each(ERAS)('stream resources over HTTP (%s client)', (era) => {
  it('subscribe, get an update, read the new event, unsubscribe: the upstream stream closes', async () => {
    const sim = await startSimulator({ apiKey: KEY });
    const server = await startHttp({ args: ['--base-url', sim.url, '--auth', 'none'], env: { KERNEL_API_KEY: KEY } });
    try {
      const mcp = await connectHttp(era, server.url);
      const res = await fetch(`${sim.url}/browsers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ telemetry: { browser: { console: { enabled: false } } } }),
      });
      const id = ((await res.json()) as { session_id: string }).session_id;
      const uri = `kernel://browsers/${id}/telemetry`;
      const uris: string[] = [];
      let stop: () => Promise<void>;
      if (era === 'modern') {
        const client = mcp.client as unknown as ModernClient;
        client.setNotificationHandler('notifications/resources/updated', (n) => {
          uris.push(n.params.uri);
        });
        const sub = await client.listen({ resourceSubscriptions: [uri] });
        stop = () => sub.close();
      } else {
        const client = mcp.client as unknown as LegacyClient;
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          uris.push(n.params.uri);
        });
        await client.subscribeResource({ uri });
        stop = async () => {
          await client.unsubscribeResource({ uri });
        };
      }
      await until(() => sim.openStreams() === 1, 'the upstream stream to open');
      const seq = sim.emitTelemetry(id, { type: 'http_test_event' });
      await until(() => uris.length > 0, 'an update notification');
      expect(new Set(uris)).toEqual(new Set([uri]));
      const read = await mcp.client.readResource({ uri });
      const lines = (read.contents[0] as { text: string }).text.split('\n').filter(Boolean);
      expect(lines.map((l) => JSON.parse(l) as { seq: number }).map((l) => l.seq)).toContain(seq);
      await stop();
      await until(() => sim.openStreams() === 0, 'the upstream stream to close');
      await mcp.close();
    } finally {
      await server.stop();
      await sim.close();
    }
  });
});
