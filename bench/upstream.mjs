// A fixed upstream for the large-answer benchmark, in its own process: answers shaped like the Kernel API's, built
// once and served from memory, so the figure is what the MCP servers spend, not the upstream.
//   GET /browsers/json-<bytes>                              a JSON object of about <bytes> bytes (application/json)
//   GET /browsers/<id>/fs/read_file?path=/text-<bytes>       <bytes> of UTF-8 text (application/octet-stream)
// Prints its URL on stdout.
import { createServer } from 'node:http';

const cache = new Map();

function json(bytes) {
  const items = [];
  let size = 60;
  for (let i = 0; size < bytes; i++) {
    const item = { index: i, name: `item-${String(i).padStart(6, '0')}`, tags: ['alpha', 'beta'], ok: i % 2 === 0 };
    item.nested = { x: i * 1.5, label: `label ${i}` };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return Buffer.from(JSON.stringify({ session_id: `json-${bytes}`, items }));
}

function text(bytes) {
  const line = 'The quick brown fox jumps over the lazy dog; 0123456789.\n';
  return Buffer.from(line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes));
}

function body(key, make, size) {
  if (!cache.has(key)) cache.set(key, make(size));
  return cache.get(key);
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let m = /^\/browsers\/json-(\d+)$/.exec(url.pathname);
  if (m) {
    const b = body(`j${m[1]}`, json, Number(m[1]));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
    res.end(b);
    return;
  }
  m = /^\/text-(\d+)$/.exec(url.searchParams.get('path') ?? '');
  if (/^\/browsers\/[^/]+\/fs\/read_file$/.test(url.pathname) && m) {
    const b = body(`t${m[1]}`, text, Number(m[1]));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length });
    res.end(b);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"code":"not_found","message":"no such fixture"}');
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`upstream listening on http://127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
