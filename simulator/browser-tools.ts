/**
 * Playwright execution and browser curl. Nothing is executed: the simulator never runs client-supplied code
 * and never touches the network. Playwright code is interpreted by recognising a few common statements
 * (`page.goto`, `page.waitForTimeout`, `console.log/error` of literals, `throw new Error(...)`, and a final
 * `return` of a literal or of page.title()/page.url()/page.content()); curl answers a synthetic page.
 */
import { requireBrowser } from './browsers.js';
import { badRequest } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, json } from './http.js';
import { navigate, titleFor } from './telemetry.js';
import type { BrowserRecord } from './types.js';

const STRING_LIT = String.raw`(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|\x60((?:[^\x60\\]|\\.)*)\x60)`;

function literal(m: RegExpExecArray, offset = 1): string {
  return (m[offset] ?? m[offset + 1] ?? m[offset + 2] ?? '').replace(/\\(.)/g, '$1');
}

function pageHtml(b: BrowserRecord): string {
  return `<!DOCTYPE html><html><head><title>${b.page.title}</title></head><body><h1>${b.page.title}</h1></body></html>`;
}

/** Evaluates the expression of a `return` statement, if it is one the simulator understands. */
function evalReturn(expr: string, b: BrowserRecord): { ok: true; value: unknown } | { ok: false } {
  const e = expr
    .trim()
    .replace(/;$/, '')
    .replace(/^await\s+/, '')
    .trim();
  if (/^page\.title\(\)$/.test(e)) return { ok: true, value: b.page.title };
  if (/^page\.url\(\)$/.test(e)) return { ok: true, value: b.page.url };
  if (/^page\.content\(\)$/.test(e)) return { ok: true, value: pageHtml(b) };
  const str = new RegExp(`^${STRING_LIT}$`).exec(e);
  if (str) return { ok: true, value: literal(str) };
  try {
    return { ok: true, value: JSON.parse(e) };
  } catch {
    try {
      // Object literals with unquoted keys / single quotes: {a: 1, 'b': "x"}
      const normalised = e.replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":').replace(/'([^'\\]*)'/g, '"$1"');
      return { ok: true, value: JSON.parse(normalised) };
    } catch {
      return { ok: false };
    }
  }
}

async function executePlaywright(ctx: Ctx): Promise<Reply> {
  const b = requireBrowser(ctx);
  const { code, timeout_sec: timeoutSec = 60 } = bodyOf<{ code: string; timeout_sec?: number }>(ctx);
  const stdout: string[] = [];
  const stderr: string[] = [];
  let waited = 0;
  const statement = new RegExp(
    String.raw`page\.goto\(\s*${STRING_LIT}|page\.waitForTimeout\(\s*(\d+)\s*\)|console\.(log|info|warn|error)\(\s*${STRING_LIT}\s*\)|throw\s+new\s+(\w*Error)\(\s*(?:${STRING_LIT})?\s*\)|return\s+([^;\n]+)`,
    'g',
  );
  for (const m of code.matchAll(statement)) {
    if (m[1] !== undefined || m[2] !== undefined || m[3] !== undefined) {
      const url = literal(m as unknown as RegExpExecArray, 1);
      try {
        new URL(url);
      } catch {
        return json(200, {
          success: false,
          error: `page.goto: Protocol error (Page.navigate): Cannot navigate to invalid URL`,
          stdout: stdout.join(''),
          stderr: stderr.join(''),
        });
      }
      navigate(ctx.sim, b, url);
    } else if (m[4] !== undefined) {
      const ms = Number(m[4]);
      if (waited + ms > timeoutSec * 1000) {
        return json(200, {
          success: false,
          error: `Execution timed out after ${timeoutSec}s`,
          stdout: stdout.join(''),
          stderr: stderr.join(''),
        });
      }
      waited += ms;
      await ctx.sim.timers.sleep(Math.min(ms, 5000));
    } else if (m[5] !== undefined) {
      const text = literal(m as unknown as RegExpExecArray, 6);
      (m[5] === 'error' || m[5] === 'warn' ? stderr : stdout).push(`${text}\n`);
    } else if (m[9] !== undefined) {
      const message = literal(m as unknown as RegExpExecArray, 10);
      return json(200, {
        success: false,
        error: `${m[9]}: ${message}`,
        stdout: stdout.join(''),
        stderr: stderr.join(''),
      });
    } else if (m[13] !== undefined) {
      const value = evalReturn(m[13], b);
      return json(200, {
        success: true,
        ...(value.ok && value.value !== undefined ? { result: value.value } : {}),
        stdout: stdout.join(''),
        stderr: stderr.join(''),
      });
    }
  }
  return json(200, { success: true, stdout: stdout.join(''), stderr: stderr.join('') });
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
