/**
 * The live view a headful browser's `browser_live_view_url` points at: a page that shows the rendered screen and
 * refreshes it, and the screen itself as a PNG. Like the real live view it is authorised by the session's `jwt` in
 * the URL, not by an API key. (It is a picture of the simulated screen, not a remote-controllable browser.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { screenshotPng } from './computer.js';
import type { SimContext } from './context.js';

const LIVE = /^\/browser\/([^/]+)\/live(\/screen\.png)?$/;

/** Serves GET /browser/{id}/live and /browser/{id}/live/screen.png; false when the path is not a live view. */
export function serveLiveView(sim: SimContext, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const m = LIVE.exec(url.pathname);
  if (!m || req.method !== 'GET') return false;
  const b = sim.state.browsers.get(decodeURIComponent(m[1] as string));
  const jwt = url.searchParams.get('jwt') ?? '';
  if (!b || b.headless || b.token !== jwt) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('no live view for this session');
    return true;
  }
  if (m[2]) {
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' }).end(screenshotPng(b));
    return true;
  }
  const src = `live/screen.png?jwt=${encodeURIComponent(jwt)}`;
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Live view (simulated)</title>
<style>html,body{margin:0;height:100%;background:#111}img{width:100%;height:100%;object-fit:contain;display:block}</style>
</head><body><img id="screen" alt="Live view of the simulated browser" src="${src}">
<script>const img=document.getElementById('screen');setInterval(()=>{img.src=img.src.replace(/&t=\\d+$/,'')+'&t='+Date.now()},1000);</script>
</body></html>`;
  res
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
    })
    .end(page);
  return true;
}
