/** Browser filesystem endpoints over the session's MemFs, including watches, uploads and zip archives. */
import { requireBrowser, serveBrowserSse } from './browsers.js';
import { ApiError, badRequest, forbidden, notFound } from './errors.js';
import { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, bytes, empty, json, param } from './http.js';
import { basename, dirname, FsError, type FsNode, MemFs, modeString } from './memfs.js';
import { indexedParts, type Part, partFile, partText } from './multipart.js';
import type { BrowserRecord, FsEvent, Json, WatchRecord } from './types.js';
import { readZip, writeZip, ZipError } from './zip.js';

/** Maps filesystem errors onto the spec's statuses. */
function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof FsError)) throw e;
    if (e.code === 'ENOENT') throw new ApiError(404, 'not_found', e.message);
    if (e.code === 'EACCES') throw forbidden(e.message);
    throw badRequest(e.message);
  }
}

export function fileInfo(path: string, node: FsNode): Json {
  return {
    name: basename(path),
    path,
    size_bytes: node.isDir ? 0 : node.data.length,
    is_dir: node.isDir,
    mod_time: node.mtime.toISOString(),
    mode: modeString(node),
  };
}

const queryPath = (ctx: Ctx): string => fsCall(() => MemFs.normalize(ctx.query['path'] as string));
const parseMode = (mode: string | undefined): number | undefined =>
  mode === undefined ? undefined : Number.parseInt(mode, 8);

function watchEvents(b: BrowserRecord, w: { path: string; recursive: boolean }, log: EventLog<FsEvent>): () => void {
  return b.fs.onChange((c) => {
    const inside = c.path.startsWith(w.path === '/' ? '/' : `${w.path}/`);
    const direct = inside && dirname(c.path) === w.path;
    if (c.path === w.path && (c.type === 'DELETE' || c.type === 'RENAME')) {
      log.push({ type: c.type, name: basename(c.path), path: c.path, is_dir: true });
      log.finish();
      return;
    }
    if (direct || (w.recursive && inside)) {
      log.push({ type: c.type, name: basename(c.path), path: c.path, is_dir: c.isDir });
    }
  });
}

function startWatch(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const body = bodyOf<{ path: string; recursive?: boolean }>(ctx);
  const path = fsCall(() => MemFs.normalize(body.path));
  const node = fsCall(() => b.fs.stat(path));
  if (!node.isDir) throw badRequest(`path: ${path} is not a directory`);
  const id = ctx.sim.ids.id();
  const log = new EventLog<FsEvent>(10000);
  const spec = { path, recursive: body.recursive ?? false };
  const unwatch = watchEvents(b, spec, log);
  const stop = (): void => {
    unwatch();
    log.finish();
  };
  const watch: WatchRecord = { id, ...spec, log, stop };
  b.watches.set(id, watch);
  b.onEnd.push(stop);
  return json(201, { watch_id: id });
}

function lookupWatch(ctx: Ctx): { b: BrowserRecord; watch: WatchRecord } {
  const b = requireBrowser(ctx);
  const id = param(ctx, 'watch_id');
  const watch = b.watches.get(id);
  if (!watch) throw notFound('watch', id);
  return { b, watch };
}

function uploadFiles(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const entries = indexedParts(ctx.body as Part[], 'files');
  if (entries.length === 0)
    throw badRequest('files is required (multipart fields files[N][file] and files[N][dest_path])');
  const writes = entries.map((entry, i) => {
    const file = entry['file'];
    const dest = entry['dest_path']?.data.toString('utf8');
    if (!file) throw badRequest(`files[${i}].file is required`);
    if (!dest) throw badRequest(`files[${i}].dest_path is required`);
    if (!dest.startsWith('/')) throw badRequest(`files[${i}].dest_path must match pattern ^/.*`);
    return { dest: fsCall(() => MemFs.normalize(dest)), data: file.data };
  });
  for (const w of writes) fsCall(() => b.fs.writeFile(w.dest, w.data));
  return empty(201);
}

function uploadZip(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const parts = ctx.body as Part[];
  const zipFile = partFile(parts, 'zip_file');
  const dest = partText(parts, 'dest_path');
  if (!zipFile) throw badRequest('zip_file is required');
  if (!dest) throw badRequest('dest_path is required');
  if (!dest.startsWith('/')) throw badRequest('dest_path must match pattern ^/.*');
  const root = fsCall(() => MemFs.normalize(dest));
  let entries: ReturnType<typeof readZip>;
  try {
    entries = readZip(zipFile.data);
  } catch (e) {
    throw badRequest(`zip_file: ${e instanceof ZipError ? e.message : 'invalid archive'}`);
  }
  const targets = entries.map((e) => {
    const target = MemFs.normalize(`${root}/${e.name}`);
    if (target !== root && !target.startsWith(root === '/' ? '/' : `${root}/`)) {
      throw badRequest(`zip_file: entry '${e.name}' would extract outside ${root}`);
    }
    return { target, entry: e };
  });
  fsCall(() => b.fs.mkdir(root));
  for (const { target, entry } of targets) {
    if (entry.isDir) fsCall(() => b.fs.mkdir(target));
    else fsCall(() => b.fs.writeFile(target, entry.data));
  }
  return empty(201);
}

function downloadDirZip(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const path = queryPath(ctx);
  const node = fsCall(() => b.fs.stat(path));
  if (!node.isDir) throw badRequest(`path: ${path} is not a directory`);
  const entries = fsCall(() => b.fs.walk(path)).map((e) => ({
    name: e.node.isDir ? `${e.rel}/` : e.rel,
    data: e.node.data,
    isDir: e.node.isDir,
    mtime: e.node.mtime,
  }));
  return bytes(200, writeZip(entries), 'application/zip', {
    'content-disposition': `attachment; filename="${basename(path) === '/' ? 'root' : basename(path)}.zip"`,
  });
}

export const FS_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/browsers/{id}/fs/read_file',
    operationId: 'readFile',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      return bytes(
        200,
        fsCall(() => b.fs.readFile(queryPath(ctx))),
        'application/octet-stream',
      );
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/write_file',
    operationId: 'writeFile',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      const mode = parseMode(ctx.query['mode'] as string | undefined);
      fsCall(() => b.fs.writeFile(queryPath(ctx), ctx.body as Buffer, mode));
      return empty(201);
    },
  },
  {
    method: 'GET',
    path: '/browsers/{id}/fs/list_files',
    operationId: 'listFiles',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      return json(
        200,
        fsCall(() => b.fs.list(queryPath(ctx))).map((e) => fileInfo(e.path, e.node)),
      );
    },
  },
  {
    method: 'GET',
    path: '/browsers/{id}/fs/file_info',
    operationId: 'fileInfo',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      const path = queryPath(ctx);
      return json(
        200,
        fileInfo(
          path,
          fsCall(() => b.fs.stat(path)),
        ),
      );
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/create_directory',
    operationId: 'createDirectory',
    no404: true,
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      const body = bodyOf<{ path: string; mode?: string }>(ctx);
      fsCall(() => b.fs.mkdir(body.path, parseMode(body.mode)));
      return empty(201);
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/delete_file',
    operationId: 'deleteFile',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      fsCall(() => b.fs.removeFile(bodyOf<{ path: string }>(ctx).path));
      return empty(200);
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/delete_directory',
    operationId: 'deleteDirectory',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      fsCall(() => b.fs.removeDir(bodyOf<{ path: string }>(ctx).path));
      return empty(200);
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/set_file_permissions',
    operationId: 'setFilePermissions',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      const body = bodyOf<{ path: string; mode: string; owner?: string; group?: string }>(ctx);
      fsCall(() => b.fs.chmod(body.path, parseMode(body.mode) ?? 0o644, body.owner, body.group));
      return empty(200);
    },
  },
  {
    method: 'PUT',
    path: '/browsers/{id}/fs/move',
    operationId: 'movePath',
    handler: (ctx) => {
      const b = requireBrowser(ctx);
      const body = bodyOf<{ src_path: string; dest_path: string }>(ctx);
      fsCall(() => b.fs.move(body.src_path, body.dest_path));
      return empty(200);
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/fs/watch',
    operationId: 'startFsWatch',
    handler: startWatch,
  },
  {
    method: 'GET',
    path: '/browsers/{id}/fs/watch/{watch_id}/events',
    operationId: 'streamFsEvents',
    handler: (ctx) => {
      const { b, watch } = lookupWatch(ctx);
      return serveBrowserSse(ctx, b, watch.log);
    },
  },
  {
    method: 'DELETE',
    path: '/browsers/{id}/fs/watch/{watch_id}',
    operationId: 'stopFsWatch',
    handler: (ctx) => {
      const { b, watch } = lookupWatch(ctx);
      watch.stop();
      b.watches.delete(watch.id);
      b.onEnd = b.onEnd.filter((f) => f !== watch.stop);
      return empty(204);
    },
  },
  {
    method: 'GET',
    path: '/browsers/{id}/fs/download_dir_zip',
    operationId: 'downloadDirZip',
    handler: downloadDirZip,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/fs/upload',
    operationId: 'uploadFiles',
    handler: uploadFiles,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/fs/upload_zip',
    operationId: 'uploadZip',
    handler: uploadZip,
  },
];
