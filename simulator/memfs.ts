/** The per-browser in-memory filesystem, with change notifications for watches and log followers. */

export interface FsNode {
  isDir: boolean;
  mode: number;
  owner: string;
  group: string;
  mtime: Date;
  data: Buffer;
  children: Map<string, FsNode>;
}

export type FsErrorCode = 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'EEXIST' | 'EACCES' | 'EINVAL';

export class FsError extends Error {
  constructor(
    readonly code: FsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface FsChange {
  type: 'CREATE' | 'WRITE' | 'DELETE' | 'RENAME';
  path: string;
  isDir: boolean;
}

/** Mutations below these prefixes are refused with EACCES (answered 403). */
const READ_ONLY_PREFIXES = ['/proc', '/sys', '/dev'];

export function basename(path: string): string {
  return path === '/' ? '/' : (path.split('/').pop() ?? '');
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function modeString(node: FsNode): string {
  const bits = 'rwxrwxrwx';
  let s = node.isDir ? 'd' : '-';
  for (let i = 0; i < 9; i++) s += node.mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

function newNode(isDir: boolean, mode: number, owner = 'kernel'): FsNode {
  return { isDir, mode, owner, group: owner, mtime: new Date(), data: Buffer.alloc(0), children: new Map() };
}

export class MemFs {
  readonly root: FsNode = newNode(true, 0o755, 'root');
  private readonly listeners = new Set<(c: FsChange) => void>();

  /** Normalises an absolute path (resolves `.`/`..`, collapses slashes); throws EINVAL for relative paths. */
  static normalize(path: string): string {
    if (!path.startsWith('/')) throw new FsError('EINVAL', `path must be absolute: ${path}`);
    const parts: string[] = [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') parts.pop();
      else parts.push(part);
    }
    return `/${parts.join('/')}`;
  }

  onChange(listener: (c: FsChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(type: FsChange['type'], path: string, isDir: boolean): void {
    for (const l of [...this.listeners]) l({ type, path, isDir });
  }

  private lookup(path: string): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    for (const part of MemFs.normalize(path).split('/').filter(Boolean)) {
      if (!node?.isDir) return undefined;
      node = node.children.get(part);
    }
    return node;
  }

  private checkWritable(path: string): void {
    if (READ_ONLY_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) {
      throw new FsError('EACCES', `permission denied: ${path}`);
    }
    if (path === '/') throw new FsError('EACCES', 'permission denied: /');
  }

  exists(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  stat(path: string): FsNode {
    const node = this.lookup(path);
    if (!node) throw new FsError('ENOENT', `no such file or directory: ${MemFs.normalize(path)}`);
    return node;
  }

  readFile(path: string): Buffer {
    const node = this.stat(path);
    if (node.isDir) throw new FsError('EISDIR', `is a directory: ${MemFs.normalize(path)}`);
    return node.data;
  }

  list(path: string): Array<{ name: string; path: string; node: FsNode }> {
    const p = MemFs.normalize(path);
    const node = this.stat(p);
    if (!node.isDir) throw new FsError('ENOTDIR', `not a directory: ${p}`);
    return [...node.children.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, child]) => ({ name, path: p === '/' ? `/${name}` : `${p}/${name}`, node: child }));
  }

  /** `mkdir -p`: creates missing directories (emitting CREATE for each); fails if a component is a file. */
  mkdir(path: string, mode = 0o755, owner?: string): FsNode {
    const p = MemFs.normalize(path);
    let node = this.root;
    let current = '';
    for (const part of p.split('/').filter(Boolean)) {
      current += `/${part}`;
      let child = node.children.get(part);
      if (!child) {
        this.checkWritable(current);
        child = newNode(true, mode, owner ?? node.owner);
        node.children.set(part, child);
        node.mtime = new Date();
        this.emit('CREATE', current, true);
      } else if (!child.isDir) {
        throw new FsError('ENOTDIR', `not a directory: ${current}`);
      }
      node = child;
    }
    return node;
  }

  /** Creates or truncates a file (parents are created, like the real API's MkdirAll). */
  writeFile(path: string, data: Buffer, mode?: number, owner?: string): void {
    const p = MemFs.normalize(path);
    this.checkWritable(p);
    const parent = this.mkdir(dirname(p));
    const name = basename(p);
    let node = parent.children.get(name);
    if (node?.isDir) throw new FsError('EISDIR', `is a directory: ${p}`);
    const created = !node;
    if (!node) {
      node = newNode(false, mode ?? 0o644, owner ?? parent.owner);
      parent.children.set(name, node);
      parent.mtime = new Date();
    } else if (mode !== undefined) node.mode = mode;
    node.data = Buffer.from(data);
    node.mtime = new Date();
    if (created) this.emit('CREATE', p, false);
    this.emit('WRITE', p, false);
  }

  appendFile(path: string, data: Buffer): void {
    const p = MemFs.normalize(path);
    const existing = this.lookup(p);
    if (!existing) {
      this.writeFile(p, data);
      return;
    }
    if (existing.isDir) throw new FsError('EISDIR', `is a directory: ${p}`);
    this.checkWritable(p);
    existing.data = Buffer.concat([existing.data, data]);
    existing.mtime = new Date();
    this.emit('WRITE', p, false);
  }

  private parentOf(p: string): FsNode {
    const parent = this.lookup(dirname(p));
    if (!parent) throw new FsError('ENOENT', `no such file or directory: ${p}`);
    return parent;
  }

  removeFile(path: string): void {
    const p = MemFs.normalize(path);
    const node = this.stat(p);
    if (node.isDir) throw new FsError('EISDIR', `is a directory: ${p}`);
    this.checkWritable(p);
    this.parentOf(p).children.delete(basename(p));
    this.emit('DELETE', p, false);
  }

  /** Removes a directory and everything below it (`rm -rf`). */
  removeDir(path: string): void {
    const p = MemFs.normalize(path);
    const node = this.stat(p);
    if (!node.isDir) throw new FsError('ENOTDIR', `not a directory: ${p}`);
    this.checkWritable(p);
    const removed = this.walk(p).reverse();
    this.parentOf(p).children.delete(basename(p));
    for (const e of removed) this.emit('DELETE', e.path, e.node.isDir);
    this.emit('DELETE', p, true);
  }

  /** rename(2): replaces an existing file destination; refuses to replace a directory or move into itself. */
  move(src: string, dest: string): void {
    const s = MemFs.normalize(src);
    const d = MemFs.normalize(dest);
    const node = this.stat(s);
    this.checkWritable(s);
    this.checkWritable(d);
    if (s === d) return;
    if (d.startsWith(`${s}/`)) throw new FsError('EINVAL', `cannot move ${s} into itself`);
    const target = this.lookup(d);
    if (target?.isDir) throw new FsError('EEXIST', `destination exists and is a directory: ${d}`);
    if (target && node.isDir) throw new FsError('ENOTDIR', `cannot overwrite file ${d} with a directory`);
    const destParent = this.lookup(dirname(d));
    if (!destParent) throw new FsError('ENOENT', `no such directory: ${dirname(d)}`);
    if (!destParent.isDir) throw new FsError('ENOTDIR', `not a directory: ${dirname(d)}`);
    this.parentOf(s).children.delete(basename(s));
    destParent.children.set(basename(d), node);
    node.mtime = new Date();
    this.emit('RENAME', s, node.isDir);
    this.emit('CREATE', d, node.isDir);
  }

  chmod(path: string, mode: number, owner?: string, group?: string): void {
    const p = MemFs.normalize(path);
    const node = this.stat(p);
    this.checkWritable(p);
    node.mode = mode & 0o7777;
    if (owner !== undefined) node.owner = owner;
    if (group !== undefined) node.group = group;
  }

  /** Every node below `path` (not including it), parents before children, with paths relative to `path`. */
  walk(path: string): Array<{ path: string; rel: string; node: FsNode }> {
    const base = MemFs.normalize(path);
    const out: Array<{ path: string; rel: string; node: FsNode }> = [];
    const visit = (dir: string, rel: string): void => {
      for (const entry of this.list(dir)) {
        const r = rel ? `${rel}/${entry.name}` : entry.name;
        out.push({ path: entry.path, rel: r, node: entry.node });
        if (entry.node.isDir) visit(entry.path, r);
      }
    };
    visit(base, '');
    return out;
  }
}

/** The filesystem a new browser VM starts with. */
export function seedFilesystem(fs: MemFs, hostname: string): void {
  fs.mkdir('/home', 0o755, 'root');
  for (const dir of ['Downloads', 'user-data', 'extensions']) fs.mkdir(`/home/kernel/${dir}`, 0o755, 'kernel');
  fs.mkdir('/root', 0o700, 'root');
  fs.mkdir('/tmp', 0o777, 'root');
  fs.mkdir('/etc', 0o755, 'root');
  fs.mkdir('/var/log/supervisord', 0o755, 'root');
  fs.writeFile('/etc/hostname', Buffer.from(`${hostname}\n`), 0o644, 'root');
  fs.writeFile(
    '/etc/os-release',
    Buffer.from('PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\n'),
    0o644,
    'root',
  );
  const started = new Date().toISOString();
  const logs: Record<string, string[]> = {
    chromium: [
      `${started} chromium: starting`,
      `${started} DevTools listening on ws://127.0.0.1:9223/devtools/browser`,
    ],
    'kernel-images-api': [`${started} kernel-images-api: listening on :10001`],
    neko: [`${started} neko: webrtc server started`],
  };
  for (const [name, lines] of Object.entries(logs)) {
    fs.writeFile(`/var/log/supervisord/${name}`, Buffer.from(`${lines.join('\n')}\n`), 0o644, 'root');
  }
}
