/**
 * Browser telemetry: events are recorded only when the session has a telemetry config (created with one, or
 * enabled via PATCH), filtered per category (`monitor_*` events ignore the filter). Navigation and computer
 * actions produce page/network/interaction events; while a client is subscribed, a console heartbeat is
 * produced every eventIntervalMs. Frames carry the spec's `{seq, event}` envelope, with `id:` = seq.
 */
import type { SimContext } from './context.js';
import { EventLog } from './event-log.js';
import { currentPage, pageFor } from './pages.js';
import type { BrowserRecord, Json } from './types.js';

export type TelemetryCategory = 'console' | 'page' | 'interaction' | 'network' | 'monitor';

const SOURCES: Record<TelemetryCategory, string> = {
  console: 'Runtime.consoleAPICalled',
  page: 'Page.frameNavigated',
  interaction: 'kernel.interaction',
  network: 'Network.requestWillBeSent',
  monitor: 'kernel.monitor',
};

export function telemetryEnabled(b: BrowserRecord, category: TelemetryCategory): boolean {
  if (!b.telemetry || b.deletedAt) return false;
  if (category === 'monitor') return true;
  const categories = b.telemetry.browser;
  const all = categories ? Object.values(categories) : [];
  // Every category explicitly disabled means capture is stopped (monitor events included).
  if (all.length === 4 && all.every((c) => c?.enabled === false)) return false;
  return categories?.[category]?.enabled !== false;
}

/** Records one telemetry event if its category is captured; returns its seq (or undefined when filtered). */
export function emitTelemetry(
  b: BrowserRecord,
  type: string,
  category: TelemetryCategory,
  data: Json,
  sourceEvent = SOURCES[category],
): number | undefined {
  if (!telemetryEnabled(b, category)) return undefined;
  const kind = category === 'interaction' ? 'extension' : category === 'monitor' ? 'kernel_api' : 'cdp';
  const event: Json = { ts: Date.now() * 1000, type, source: { kind, event: sourceEvent }, data };
  return b.telemetryLog.push(event).id;
}

/** The BrowserEventContext stamped on CDP-sourced events. */
export function eventContext(b: BrowserRecord): Json {
  return {
    session_id: `S${b.page.targetId.slice(0, 16)}`,
    target_id: b.page.targetId,
    target_type: 'page',
    frame_id: b.page.frameId,
    loader_id: b.page.loaderId,
    url: b.page.url,
    nav_seq: b.page.navSeq,
  };
}

export function createTelemetryLog(sim: SimContext, b: BrowserRecord): EventLog<Json> {
  let stop: (() => void) | undefined;
  let tick = 0;
  return new EventLog<Json>(5000, (active) => {
    stop?.();
    stop = undefined;
    if (!active) return;
    stop = sim.timers.every(sim.options.eventIntervalMs, () => {
      tick++;
      const text = `[simulator] heartbeat ${tick}`;
      emitTelemetry(b, 'console_log', 'console', { ...eventContext(b), level: 'log', text, args: [text] });
    });
  });
}

/** A page title for a URL (the built-in pages' titles: example.com answers "Example Domain", like the real site). */
export function titleFor(url: string): string {
  return pageFor(url).title;
}

/** Simulates a top-level navigation: updates the page and emits the usual page/network lifecycle events. */
export function navigate(sim: SimContext, b: BrowserRecord, url: string): void {
  b.page.url = url;
  b.page.title = titleFor(url);
  b.page.navSeq++;
  b.page.loaderId = sim.ids.token(32, '0123456789ABCDEF');
  b.scroll = { x: 0, y: 0 };
  const requestId = `${sim.ids.int(1000, 9999)}.${b.page.navSeq}`;
  emitTelemetry(b, 'page_navigation', 'page', {
    url,
    frame_id: b.page.frameId,
    loader_id: b.page.loaderId,
    session_id: `S${b.page.targetId.slice(0, 16)}`,
    target_id: b.page.targetId,
    target_type: 'page',
  });
  emitTelemetry(b, 'network_request', 'network', {
    ...eventContext(b),
    request_id: requestId,
    method: 'GET',
    document_url: url,
    headers: { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36' },
    resource_type: 'Document',
    initiator_type: 'other',
  });
  emitTelemetry(
    b,
    'network_response',
    'network',
    {
      ...eventContext(b),
      request_id: requestId,
      method: 'GET',
      status: 200,
      status_text: 'OK',
      headers: { 'content-type': 'text/html; charset=utf-8' },
      mime_type: 'text/html',
      resource_type: 'Document',
      body: `<!doctype html><title>${b.page.title}</title>`,
    },
    'Network.loadingFinished',
  );
  // What the page does as it loads: console errors and requests that fail (simulator/pages.ts).
  const page = currentPage(b);
  for (const text of page.consoleErrors ?? []) {
    emitTelemetry(
      b,
      'console_error',
      'console',
      { ...eventContext(b), text, line: 1, column: 1 },
      'Runtime.exceptionThrown',
    );
  }
  for (const [failedUrl, errorText] of page.failedRequests ?? []) {
    const id = `${sim.ids.int(1000, 9999)}.${b.page.navSeq}`;
    emitTelemetry(b, 'network_request', 'network', {
      ...eventContext(b),
      request_id: id,
      method: 'GET',
      document_url: failedUrl,
      resource_type: 'Fetch',
      initiator_type: 'script',
    });
    emitTelemetry(
      b,
      'network_loading_failed',
      'network',
      { ...eventContext(b), request_id: id, error_text: errorText, canceled: false, resource_type: 'Fetch' },
      'Network.loadingFailed',
    );
  }
  emitTelemetry(b, 'page_dom_content_loaded', 'page', { ...eventContext(b), cdp_timestamp: performance.now() / 1000 });
  emitTelemetry(b, 'page_load', 'page', { ...eventContext(b), cdp_timestamp: performance.now() / 1000 });
  emitTelemetry(b, 'network_idle', 'network', eventContext(b));
  emitTelemetry(b, 'page_layout_settled', 'page', eventContext(b));
  emitTelemetry(b, 'page_navigation_settled', 'page', eventContext(b));
}
