/** Browser extensions: uploads (zip with a manifest.json), listing, download, Chrome Web Store fetch, and
 * ad-hoc loading into a running session (unpacked under /home/kernel/extensions/<name>/). */
import { requireBrowser } from './browsers.js';
import { badRequest, conflict } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bytes, deleteFrom, empty, json, param } from './http.js';
import { indexedParts, type Part, partFile, partText } from './multipart.js';
import { byIdOrName, nameTaken } from './state.js';
import { emitTelemetry } from './telemetry.js';
import type { ExtensionRecord, Json } from './types.js';
import { compact, nowIso } from './util.js';
import { readZip, writeZip, type ZipEntry, ZipError } from './zip.js';

const NAME_RE = /^[A-Za-z0-9._-]{1,255}$/;

export function extensionView(e: ExtensionRecord): Json {
  return compact({
    id: e.id,
    name: e.name,
    created_at: e.createdAt,
    size_bytes: e.data.length,
    last_used_at: e.lastUsedAt,
  });
}

/** Reads an extension archive; it must contain manifest.json at its root or inside one top-level folder. */
function readExtensionZip(data: Buffer, field: string): ZipEntry[] {
  let entries: ZipEntry[];
  try {
    entries = readZip(data);
  } catch (e) {
    throw badRequest(`${field}: ${e instanceof ZipError ? e.message : 'not a zip archive'}`);
  }
  const manifest = entries.find((e) => /^(?:[^/]+\/)?manifest\.json$/.test(e.name));
  if (!manifest)
    throw badRequest(`${field}: the archive has no manifest.json (expected an unpacked Chromium extension)`);
  try {
    JSON.parse(manifest.data.toString('utf8'));
  } catch {
    throw badRequest(`${field}: manifest.json is not valid JSON`);
  }
  return entries;
}

function upload(ctx: Ctx): Reply {
  const parts = ctx.body as Part[];
  const file = partFile(parts, 'file');
  const name = partText(parts, 'name');
  if (!file) throw badRequest('file is required');
  if (name !== undefined && !NAME_RE.test(name)) throw badRequest('name must match pattern ^[A-Za-z0-9._-]{1,255}$');
  readExtensionZip(file.data, 'file');
  if (nameTaken(ctx.sim.state.extensions, name)) throw conflict(`an extension named '${name}' already exists`);
  const ext: ExtensionRecord = { id: ctx.sim.ids.id(), name, createdAt: nowIso(), data: Buffer.from(file.data) };
  ctx.sim.state.extensions.set(ext.id, ext);
  return json(201, extensionView(ext));
}

const lookup = (ctx: Ctx): ExtensionRecord =>
  byIdOrName(ctx.sim.state.extensions, param(ctx, 'id_or_name'), 'extension');

function fromChromeStore(ctx: Ctx): Reply {
  const raw = ctx.query['url'] as string;
  const os = (ctx.query['os'] as string | undefined) ?? 'linux';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`url: '${raw}' is not a valid URL`);
  }
  const id = /\/([a-p]{32})(?:[/?#]|$)/.exec(url.pathname + (url.pathname.endsWith('/') ? '' : '/'))?.[1];
  if (!/^(chromewebstore\.google\.com|chrome\.google\.com)$/.test(url.hostname) || !id) {
    throw badRequest(
      'url must be a Chrome Web Store extension URL (https://chromewebstore.google.com/detail/<name>/<id>)',
    );
  }
  const manifest = {
    manifest_version: 3,
    name: `Extension ${id.slice(0, 8)}`,
    version: '1.0.0',
    description: `Unpacked from the Chrome Web Store for ${os} by the Kernel simulator`,
    background: { service_worker: 'background.js' },
  };
  const zip = writeZip([
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2)), isDir: false },
    { name: 'background.js', data: Buffer.from("console.log('extension loaded');\n"), isDir: false },
  ]);
  return bytes(200, zip, 'application/octet-stream', { 'content-disposition': `attachment; filename="${id}.zip"` });
}

function uploadToBrowser(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const entries = indexedParts(ctx.body as Part[], 'extensions');
  if (entries.length === 0)
    throw badRequest('extensions is required (fields extensions[N][zip_file], extensions[N][name])');
  const unpacked = entries.map((entry, i) => {
    const zip = entry['zip_file'];
    const name = entry['name']?.data.toString('utf8');
    if (!zip) throw badRequest(`extensions[${i}].zip_file is required`);
    if (name === undefined) throw badRequest(`extensions[${i}].name is required`);
    if (!NAME_RE.test(name)) throw badRequest(`extensions[${i}].name must match pattern ^[a-zA-Z0-9._-]{1,255}$`);
    return { name, files: readExtensionZip(zip.data, `extensions[${i}].zip_file`) };
  });
  for (const ext of unpacked) {
    const root = `/home/kernel/extensions/${ext.name}`;
    for (const f of ext.files) {
      if (f.isDir) b.fs.mkdir(`${root}/${f.name}`);
      else b.fs.writeFile(`${root}/${f.name}`, f.data);
    }
  }
  const names = unpacked.map((e) => e.name).join(', ');
  b.fs.appendFile(
    '/var/log/supervisord/chromium',
    Buffer.from(`${nowIso()} chromium: restarting with extensions ${names}\n`),
  );
  emitTelemetry(b, 'monitor_disconnected', 'monitor', { reason: 'chrome_restarted' });
  emitTelemetry(b, 'monitor_reconnected', 'monitor', { reconnect_duration_ms: 250 });
  return empty(201);
}

export const EXTENSION_ROUTES: Route[] = [
  { method: 'POST', path: '/extensions', operationId: 'postExtensions', handler: upload },
  {
    method: 'GET',
    path: '/extensions',
    operationId: 'getExtensions',
    handler: (ctx) => json(200, [...ctx.sim.state.extensions.values()].map(extensionView)),
  },
  {
    method: 'GET',
    path: '/extensions/from_chrome_store',
    operationId: 'getExtensionsFromChromeStore',
    handler: fromChromeStore,
  },
  {
    method: 'GET',
    path: '/extensions/{id_or_name}',
    operationId: 'getExtensionByIdOrName',
    handler: (ctx) => {
      const ext = lookup(ctx);
      return bytes(200, ext.data, 'application/octet-stream', {
        'content-disposition': `attachment; filename="${ext.name ?? ext.id}.zip"`,
      });
    },
  },
  {
    method: 'DELETE',
    path: '/extensions/{id_or_name}',
    operationId: 'deleteExtensionByIdOrName',
    handler: deleteFrom((sim) => sim.state.extensions, lookup),
  },
  {
    method: 'POST',
    path: '/browsers/{id}/extensions',
    operationId: 'uploadExtensionsToBrowser',
    handler: uploadToBrowser,
  },
];
