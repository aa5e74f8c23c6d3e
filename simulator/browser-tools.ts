/**
 * Playwright execution and browser curl. Nothing is executed: the simulator never runs client-supplied code
 * and never touches the network. Playwright code is emulated (simulator/playwright.ts) against the built-in pages
 * (simulator/pages.ts); code outside the emulated subset answers an error that lists the subset. curl answers a
 * synthetic page.
 */
import { requireBrowser } from './browsers.js';
import { badRequest } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, json } from './http.js';
import { allElements, currentPage } from './pages.js';
import { type Effects, Interpreter, PlaywrightError, SUPPORTED, Unsupported } from './playwright.js';
import { emitTelemetry, eventContext, navigate, titleFor } from './telemetry.js';

async function executePlaywright(ctx: Ctx): Promise<Reply> {
  const b = requireBrowser(ctx);
  const { code, timeout_sec: timeoutSec = 60 } = bodyOf<{ code: string; timeout_sec?: number }>(ctx);
  const stdout: string[] = [];
  const stderr: string[] = [];
  let waited = 0;
  const effects: Effects = {
    navigate: (url) => navigate(ctx.sim, b, url),
    console: (level, text) => {
      (level === 'error' || level === 'warn' ? stderr : stdout).push(`${text}\n`);
      const type = level === 'error' ? 'console_error' : 'console_log';
      emitTelemetry(b, type, 'console', { ...eventContext(b), level, text, args: [text] });
    },
    click: (e) => {
      emitTelemetry(b, 'interaction_click', 'interaction', {
        ...eventContext(b),
        x: 0,
        y: 0,
        selector: e.id ? `#${e.id}` : e.tag,
        tag: e.tag.toUpperCase(),
        text: e.name ?? '',
      });
      if (e.href) navigate(ctx.sim, b, e.href);
      if (e.submits) {
        const page = currentPage(b);
        const email = allElements(page.body).find((x) => x.id === 'email')?.value;
        const status = allElements(page.body).find((x) => x.id === 'status');
        if (status) status.text = email ? `Welcome, ${email}` : 'Please enter an email address';
      }
    },
    wait: async (ms) => {
      if (waited + ms > timeoutSec * 1000) throw new PlaywrightError(`Execution timed out after ${timeoutSec}s`);
      waited += ms;
      await ctx.sim.timers.sleep(Math.min(ms, 5000));
    },
  };
  const out = () => ({ stdout: stdout.join(''), stderr: stderr.join('') });
  try {
    const result = await new Interpreter(b, effects).run(code);
    return json(200, { success: true, ...(result !== undefined ? { result } : {}), ...out() });
  } catch (err) {
    if (err instanceof Unsupported) {
      return json(200, {
        success: false,
        error: `Not evaluated: ${err.message} is not supported. ${SUPPORTED}`,
        ...out(),
      });
    }
    if (err instanceof PlaywrightError) return json(200, { success: false, error: err.message, ...out() });
    throw err;
  }
}

interface CurlBody {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeout_ms?: number;
  response_encoding?: 'utf8' | 'base64';
}

function curl(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const req = bodyOf<CurlBody>(ctx);
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw badRequest(`url: '${req.url}' is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('url must use http or https');
  const method = req.method ?? 'GET';
  if (/\.(invalid|test)$/.test(url.hostname) || url.hostname === 'unreachable.example') {
    return json(502, {
      message: `net::ERR_NAME_NOT_RESOLVED resolving ${url.hostname}`,
      net_error: -105,
      net_error_name: 'ERR_NAME_NOT_RESOLVED',
    });
  }
  const statusMatch = /^\/status\/(\d{3})$/.exec(url.pathname);
  const status = statusMatch ? Number(statusMatch[1]) : 200;
  let contentType = 'text/html; charset=utf-8';
  let text: string;
  if (url.pathname.startsWith('/anything')) {
    contentType = 'application/json';
    text = JSON.stringify({ method, url: url.href, headers: req.headers ?? {}, data: req.body ?? '' });
  } else {
    const title = titleFor(url.href);
    text = `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>Simulated ${status} response for ${url.href}</p></body></html>`;
  }
  const payload = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(text);
  b.lastActivityMs = Date.now();
  return json(200, {
    status,
    headers: {
      'content-type': [contentType],
      'content-length': [String(Buffer.byteLength(text))],
      date: [new Date().toUTCString()],
      server: ['kernel-simulator'],
    },
    body: req.response_encoding === 'base64' ? payload.toString('base64') : payload.toString('utf8'),
    duration_ms: 12 + (payload.length % 50),
  });
}

export const BROWSER_TOOL_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/browsers/{id}/playwright/execute',
    operationId: 'executePlaywrightCode',
    no404: true,
    handler: executePlaywright,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/curl',
    operationId: 'browserCurl',
    handler: curl,
  },
];
