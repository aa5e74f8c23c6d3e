/**
 * A tiny POSIX-ish shell over a session's MemFs, used by process exec/spawn. Supports quoting, `$VAR`/`${VAR}`/
 * `$?` expansion, `~`, simple globs, `;` `&&` `||` `|`, redirections `>` `>>` `2>` `2>>` `2>&1` `>&2` `<`,
 * `for NAME in ...; do ...; done` and `while ...; do ...; done` loops, and these
 * commands: echo cat ls pwd cd sleep true false exit whoami id env printenv mkdir touch rm mv cp head wc seq
 * yes date uname hostname sh bash. Anything else exits 127 ("not found").
 */
import type { SimContext } from './context.js';
import { basename, dirname, FsError, type FsNode, MemFs, modeString } from './memfs.js';
import type { BrowserRecord } from './types.js';

// ---- stdin ------------------------------------------------------------------------------------------------

export interface Stdin {
  /** Next chunk, or null at end of input. */
  read(): Promise<Buffer | null>;
}

export class BufferStdin implements Stdin {
  private done = false;
  constructor(private readonly data: Buffer = Buffer.alloc(0)) {}
  async read(): Promise<Buffer | null> {
    if (this.done || this.data.length === 0) return null;
    this.done = true;
    return this.data;
  }
}

/** Stdin of a spawned process: chunks written through the API, EOF when the process is killed. */
export class QueueStdin implements Stdin {
  private readonly chunks: Buffer[] = [];
  private waiter?: (b: Buffer | null) => void;
  private closed = false;

  write(data: Buffer): void {
    if (this.closed) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(data);
    } else this.chunks.push(data);
  }

  close(): void {
    this.closed = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(null);
  }

  read(): Promise<Buffer | null> {
    const next = this.chunks.shift();
    if (next) return Promise.resolve(next);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

// ---- lexer / parser ---------------------------------------------------------------------------------------

interface Seg {
  text: string;
  mode: 'raw' | 'single' | 'double';
}
type Tok = { t: 'word'; segs: Seg[] } | { t: 'op'; op: string };

class ShellSyntaxError extends Error {}

const OPS = ['2>&1', '1>&2', '>&2', '2>>', '&&', '||', '>>', '2>', '>', '<', '|', ';', '&'];

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let segs: Seg[] | null = null;
  const push = (text: string, mode: Seg['mode']): void => {
    segs ??= [];
    const last = segs[segs.length - 1];
    if (last && last.mode === mode && mode === 'raw') last.text += text;
    else segs.push({ text, mode });
  };
  const flush = (): void => {
    if (segs) toks.push({ t: 'word', segs });
    segs = null;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === ' ' || c === '\t') {
      flush();
      i++;
      continue;
    }
    if (c === '\n') {
      flush();
      toks.push({ t: 'op', op: ';' });
      i++;
      continue;
    }
    if (c === '#' && segs === null) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    if (c === "'") {
      const j = src.indexOf("'", i + 1);
      if (j < 0) throw new ShellSyntaxError('unterminated quoted string');
      push(src.slice(i + 1, j), 'single');
      i = j + 1;
      continue;
    }
    if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\' && '"\\$`'.includes(src[j + 1] ?? '')) {
          // Keep escaped `$` from expanding by marking it; other escapes just drop the backslash.
          text += src[j + 1] === '$' ? '\u0000' : (src[j + 1] ?? '');
          j++;
        } else text += src[j];
      }
      if (j >= src.length) throw new ShellSyntaxError('unterminated quoted string');
      push(text, 'double');
      i = j + 1;
      continue;
    }
    if (c === '\\') {
      push(src[i + 1] ?? '', 'single');
      i += 2;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i) && (!/^\d/.test(o) || segs === null));
    if (op) {
      flush();
      toks.push({ t: 'op', op });
      i += op.length;
      continue;
    }
    push(c, 'raw');
    i++;
  }
  flush();
  return toks;
}

interface Redirect {
  op: '>' | '>>' | '2>' | '2>>' | '<' | '2>&1' | '>&2';
  target?: Seg[];
}
/** `for NAME in WORDS; do BODY; done` or `while COND; do BODY; done`. */
type Loop =
  | { kind: 'for'; name: string; items: Seg[][]; body: Pipeline[] }
  | { kind: 'while'; cond: Pipeline[]; body: Pipeline[] };
interface Command {
  words: Seg[][];
  redirects: Redirect[];
  loop?: Loop;
}
interface Pipeline {
  commands: Command[];
  /** How this pipeline is joined to the previous one. */
  join: ';' | '&&' | '||';
}

/** The keyword a token is (an unquoted word), if any. */
const kw = (tok: Tok | undefined): string | undefined =>
  tok?.t === 'word' && tok.segs.length === 1 && tok.segs[0]?.mode === 'raw' ? tok.segs[0].text : undefined;

/** Parses a loop starting at toks[i] (`for` or `while`); answers it and the index after its `done`. */
function parseLoop(toks: Tok[], i: number): { loop: Loop; next: number } {
  const kind = kw(toks[i]) as 'for' | 'while';
  // The body runs from the `do` that ends the head to its matching `done`.
  let j = i + 1;
  while (j < toks.length && kw(toks[j]) !== 'do') j++;
  if (j >= toks.length) throw new ShellSyntaxError(`syntax error: '${kind}' without 'do'`);
  const head = toks.slice(i + 1, j);
  let depth = 0;
  let k = j + 1;
  for (; k < toks.length; k++) {
    const w = kw(toks[k]);
    if ((w === 'for' || w === 'while') && (k === 0 || toks[k - 1]?.t === 'op' || kw(toks[k - 1]) === 'do')) depth++;
    if (w === 'done') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (k >= toks.length) throw new ShellSyntaxError(`syntax error: '${kind}' without 'done'`);
  const body = parse(toks.slice(j + 1, k));
  const trimmed = head.filter((t, n) => !(t.t === 'op' && t.op === ';' && n === head.length - 1));
  if (kind === 'for') {
    const name = kw(trimmed[0]);
    if (!name || !/^[A-Za-z_]\w*$/.test(name)) throw new ShellSyntaxError("syntax error: bad 'for' variable");
    if (trimmed.length > 1 && kw(trimmed[1]) !== 'in') throw new ShellSyntaxError("syntax error: expected 'in'");
    const items = trimmed.slice(2).map((t) => (t.t === 'word' ? t.segs : []));
    return { loop: { kind, name, items, body }, next: k + 1 };
  }
  return { loop: { kind, cond: parse(trimmed), body }, next: k + 1 };
}

function parse(toks: Tok[]): Pipeline[] {
  const pipelines: Pipeline[] = [];
  let join: Pipeline['join'] = ';';
  let commands: Command[] = [];
  let cmd: Command = { words: [], redirects: [] };
  const endCommand = (): void => {
    if (cmd.words.length > 0 || cmd.redirects.length > 0 || cmd.loop) commands.push(cmd);
    cmd = { words: [], redirects: [] };
  };
  const endPipeline = (next: Pipeline['join']): void => {
    endCommand();
    if (commands.length > 0) pipelines.push({ commands, join });
    else if (next !== ';') throw new ShellSyntaxError(`syntax error near unexpected token '${next}'`);
    commands = [];
    join = next;
  };
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i];
    if (!tok) continue;
    if (tok.t === 'word') {
      const word = kw(tok);
      if ((word === 'for' || word === 'while') && cmd.words.length === 0 && !cmd.loop) {
        const { loop, next } = parseLoop(toks, i);
        cmd.loop = loop;
        i = next - 1;
        continue;
      }
      cmd.words.push(tok.segs);
      continue;
    }
    switch (tok.op) {
      case '|':
        if (cmd.words.length === 0) throw new ShellSyntaxError("syntax error near unexpected token '|'");
        endCommand();
        break;
      case ';':
      case '&':
        endPipeline(';');
        break;
      case '&&':
      case '||':
        endPipeline(tok.op);
        break;
      case '2>&1':
        cmd.redirects.push({ op: '2>&1' });
        break;
      case '1>&2':
      case '>&2':
        cmd.redirects.push({ op: '>&2' });
        break;
      default: {
        const target = toks[i + 1];
        if (target?.t !== 'word') throw new ShellSyntaxError(`syntax error: missing file after '${tok.op}'`);
        cmd.redirects.push({ op: tok.op as Redirect['op'], target: target.segs });
        i++;
      }
    }
  }
  endPipeline(';');
  return pipelines;
}

// ---- execution --------------------------------------------------------------------------------------------

export interface Io {
  stdin: Stdin;
  out(data: Buffer | string): void;
  err(data: Buffer | string): void;
  /** Aborted when the process is killed (or its exec request goes away); long-running commands stop. */
  signal: AbortSignal;
  /** Spawned with a PTY (interactive shells print a prompt). */
  tty?: boolean;
}

interface Sink {
  path: string;
  append: boolean;
  data: Buffer[];
}

class ExitRequest extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

type Builtin = (sh: Shell, args: string[], io: Io) => Promise<number> | number;

const toBuf = (d: Buffer | string): Buffer => (typeof d === 'string' ? Buffer.from(d) : d);

export class Shell {
  lastStatus = 0;

  constructor(
    readonly sim: SimContext,
    readonly b: BrowserRecord,
    public cwd: string,
    readonly env: Record<string, string>,
    readonly user: string,
  ) {}

  /** Sleeps, returning early when the process is killed. */
  wait(ms: number, io: Io): Promise<void> {
    return new Promise((resolve) => {
      if (io.signal.aborted) return resolve();
      const done = (): void => {
        cancel();
        io.signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.sim.timers.after(ms, done);
      io.signal.addEventListener('abort', done, { once: true });
    });
  }

  resolve(path: string): string {
    return MemFs.normalize(path.startsWith('/') ? path : `${this.cwd}/${path}`);
  }

  private expandText(text: string): string {
    return text
      .replace(/\$(\?|\$|\{(\w+)\}|(\w+))/g, (_m, all: string, braced?: string, bare?: string) => {
        if (all === '?') return String(this.lastStatus);
        if (all === '$') return '4242';
        return this.env[braced ?? bare ?? ''] ?? '';
      })
      .replace(/\u0000/g, '$');
  }

  private glob(pattern: string): string[] {
    const abs = this.resolve(pattern);
    const dir = dirname(abs);
    const base = basename(abs);
    if (/[*?]/.test(dir)) return [pattern];
    const re = new RegExp(
      `^${base
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    let names: string[];
    try {
      names = this.b.fs.list(dir).map((e) => e.name);
    } catch {
      return [pattern];
    }
    const matches = names.filter((n) => re.test(n) && (!n.startsWith('.') || base.startsWith('.')));
    if (matches.length === 0) return [pattern];
    const prefix = pattern.startsWith('/')
      ? dir === '/'
        ? '/'
        : `${dir}/`
      : pattern.slice(0, pattern.length - base.length);
    return matches.map((m) => prefix + m);
  }

  expandWord(segs: Seg[]): string[] {
    let text = '';
    let globbable = false;
    segs.forEach((seg, i) => {
      if (seg.mode === 'single') text += seg.text;
      else {
        let t = seg.text;
        if (seg.mode === 'raw' && i === 0 && (t === '~' || t.startsWith('~/')))
          t = (this.env['HOME'] ?? '/') + t.slice(1);
        text += this.expandText(t);
        if (seg.mode === 'raw' && /[*?]/.test(seg.text)) globbable = true;
      }
    });
    if (globbable) return this.glob(text);
    if (text === '' && segs.every((s) => s.mode === 'raw')) return [];
    return [text];
  }

  /** Runs a script; resolves to its exit status. */
  async runScript(src: string, io: Io): Promise<number> {
    let pipelines: Pipeline[];
    try {
      pipelines = parse(lex(src));
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      io.err(`sh: 1: ${e.message}\n`);
      this.lastStatus = 2;
      return 2;
    }
    return this.runPipelines(pipelines, io);
  }

  private async runPipelines(pipelines: Pipeline[], io: Io): Promise<number> {
    for (const p of pipelines) {
      if (io.signal.aborted) break;
      if (p.join === '&&' && this.lastStatus !== 0) continue;
      if (p.join === '||' && this.lastStatus === 0) continue;
      this.lastStatus = await this.runPipeline(p, io);
    }
    return this.lastStatus;
  }

  /** The most iterations of a `while` loop (a loop that never ends would hold the process forever). */
  static readonly MAX_ITERATIONS = 100_000;

  private async runLoop(loop: Loop, io: Io): Promise<number> {
    let status = 0;
    if (loop.kind === 'for') {
      const items = loop.items.flatMap((w) => this.expandWord(w));
      for (const item of items) {
        if (io.signal.aborted) break;
        this.env[loop.name] = item;
        status = await this.runPipelines(loop.body, io);
      }
      return status;
    }
    for (let n = 0; !io.signal.aborted; n++) {
      if (n >= Shell.MAX_ITERATIONS) {
        io.err(`sh: 1: while: stopped after ${Shell.MAX_ITERATIONS} iterations (simulator limit)\n`);
        return 1;
      }
      if ((await this.runPipelines(loop.cond, io)) !== 0) break;
      status = await this.runPipelines(loop.body, io);
      // Let timers and other requests run between iterations.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.lastStatus = status;
    return status;
  }

  /** Runs a script as a whole program (an `exit` ends it with that status). */
  async runProgram(src: string, io: Io): Promise<number> {
    try {
      return await this.runScript(src, io);
    } catch (e) {
      if (e instanceof ExitRequest) return e.code;
      throw e;
    }
  }

  /** Runs argv directly (exec with explicit args: no shell parsing). */
  async runArgv(argv: string[], io: Io): Promise<number> {
    try {
      return await this.runCommand(argv, io);
    } catch (e) {
      if (e instanceof ExitRequest) return e.code;
      throw e;
    }
  }

  private async runPipeline(p: Pipeline, io: Io): Promise<number> {
    let stdin = io.stdin;
    let status = 0;
    for (const [i, cmd] of p.commands.entries()) {
      const last = i === p.commands.length - 1;
      const captured: Buffer[] = [];
      const stage: Io = last ? { ...io, stdin } : { ...io, stdin, out: (d) => captured.push(toBuf(d)) };
      status = await this.runWithRedirects(cmd, stage);
      if (!last) stdin = new BufferStdin(Buffer.concat(captured));
    }
    return status;
  }

  private async runWithRedirects(cmd: Command, io: Io): Promise<number> {
    const argv = cmd.words.flatMap((w) => this.expandWord(w));
    let out: Sink | undefined;
    let err: Sink | 'out' | undefined;
    let outToErr = false;
    let stdin = io.stdin;
    for (const r of cmd.redirects) {
      if (r.op === '2>&1') {
        err = 'out';
        continue;
      }
      if (r.op === '>&2') {
        outToErr = true;
        continue;
      }
      const target = this.expandWord(r.target ?? [])[0] ?? '';
      let path: string;
      try {
        path = this.resolve(target);
      } catch {
        io.err(`sh: 1: cannot open ${target}: No such file\n`);
        return 2;
      }
      if (r.op === '<') {
        try {
          stdin = new BufferStdin(this.b.fs.readFile(path));
        } catch (e) {
          io.err(`sh: 1: cannot open ${target}: ${describeFsError(e)}\n`);
          return 2;
        }
      } else if (r.op === '>' || r.op === '>>') out = { path, append: r.op === '>>', data: [] };
      else err = { path, append: r.op === '2>>', data: [] };
    }
    const outSink = out;
    const errSink = err;
    const toErr = errSink && errSink !== 'out' ? (d: Buffer | string) => void errSink.data.push(toBuf(d)) : io.err;
    const writeOut = outToErr ? toErr : outSink ? (d: Buffer | string) => void outSink.data.push(toBuf(d)) : io.out;
    const writeErr = errSink === 'out' ? writeOut : toErr;
    const cmdIo = { ...io, stdin, out: writeOut, err: writeErr };
    const status = cmd.loop
      ? await this.runLoop(cmd.loop, cmdIo)
      : argv.length === 0
        ? 0
        : await this.runCommand(argv, cmdIo);
    for (const sink of [outSink, errSink === 'out' ? undefined : errSink]) {
      if (!sink) continue;
      try {
        const data = Buffer.concat(sink.data);
        if (sink.append) this.b.fs.appendFile(sink.path, data);
        else this.b.fs.writeFile(sink.path, data);
      } catch (e) {
        io.err(`sh: 1: cannot create ${sink.path}: ${describeFsError(e)}\n`);
        return 2;
      }
    }
    return status;
  }

  async runCommand(argv: string[], io: Io): Promise<number> {
    const [name = '', ...args] = argv;
    const builtin = BUILTINS[name] ?? BUILTINS[basename(name)];
    if (!builtin || (name.includes('/') && !['/bin', '/usr/bin'].includes(dirname(name)))) {
      io.err(`sh: 1: ${name}: not found\n`);
      return 127;
    }
    return await builtin(this, args, io);
  }
}

function describeFsError(e: unknown): string {
  if (e instanceof FsError) {
    return {
      ENOENT: 'No such file or directory',
      ENOTDIR: 'Not a directory',
      EISDIR: 'Is a directory',
      EEXIST: 'File exists',
      EACCES: 'Permission denied',
      EINVAL: 'Invalid argument',
    }[e.code];
  }
  return String(e);
}

/** Splits leading `-xyz` flags off the arguments. */
function flags(args: string[]): { set: Set<string>; rest: string[] } {
  const set = new Set<string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (!/^-[A-Za-z]+$/.test(a)) break;
    for (const ch of a.slice(1)) set.add(ch);
  }
  return { set, rest: args.slice(i) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function lsLong(name: string, node: FsNode): string {
  const d = node.mtime;
  const date = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const size = node.isDir ? 4096 : node.data.length;
  return `${modeString(node)} ${node.isDir ? 2 : 1} ${node.owner} ${node.group} ${String(size).padStart(6)} ${date} ${name}`;
}

async function readAll(stdin: Stdin, io: Io): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    if (io.signal.aborted) break;
    const c = await stdin.read();
    if (c === null) break;
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function parseDuration(arg: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(arg);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

/** Reads a file for a command, printing the usual error on failure. */
function readFileFor(sh: Shell, cmd: string, file: string, io: Io): Buffer | undefined {
  try {
    return sh.b.fs.readFile(sh.resolve(file));
  } catch (e) {
    io.err(`${cmd}: ${file}: ${describeFsError(e)}\n`);
    return undefined;
  }
}

/** Runs an fs mutation for a command, printing the usual error on failure; returns false on failure. */
function fsDo(cmd: string, target: string, io: Io, fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    io.err(`${cmd}: cannot access '${target}': ${describeFsError(e)}\n`);
    return false;
  }
}

async function interactive(sh: Shell, io: Io): Promise<number> {
  const prompt = (): void => {
    if (io.tty) io.out(`${sh.user}@${sh.env['HOSTNAME'] ?? 'browser'}:${sh.cwd}$ `);
  };
  prompt();
  let pending = '';
  for (;;) {
    if (io.signal.aborted) return 130;
    const chunk = await io.stdin.read();
    if (chunk === null) return sh.lastStatus;
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '');
      pending = pending.slice(nl + 1);
      try {
        await sh.runScript(line, { ...io, stdin: new BufferStdin() });
      } catch (e) {
        if (e instanceof ExitRequest) return e.code;
        throw e;
      }
      prompt();
      nl = pending.indexOf('\n');
    }
  }
}

const BUILTINS: Record<string, Builtin> = {
  echo: (_sh, args, io) => {
    const noNewline = args[0] === '-n';
    io.out(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
    return 0;
  },
  cat: async (sh, args, io) => {
    if (args.length === 0 || (args.length === 1 && args[0] === '-')) {
      for (;;) {
        if (io.signal.aborted) return 130;
        const chunk = await io.stdin.read();
        if (chunk === null) return 0;
        io.out(chunk);
      }
    }
    let status = 0;
    for (const file of args) {
      const data = readFileFor(sh, 'cat', file, io);
      if (data) io.out(data);
      else status = 1;
    }
    return status;
  },
  ls: (sh, args, io) => {
    const { set, rest } = flags(args);
    const targets = rest.length > 0 ? rest : ['.'];
    let status = 0;
    for (const target of targets) {
      let node: FsNode;
      let path: string;
      try {
        path = sh.resolve(target);
        node = sh.b.fs.stat(path);
      } catch (e) {
        io.err(`ls: cannot access '${target}': ${describeFsError(e)}\n`);
        status = 2;
        continue;
      }
      if (targets.length > 1 && node.isDir) io.out(`${target}:\n`);
      const entries = node.isDir
        ? sh.b.fs.list(path).filter((e) => set.has('a') || !e.name.startsWith('.'))
        : [{ name: target, node }];
      if (set.has('l')) {
        if (node.isDir) io.out(`total ${entries.length * 4}\n`);
        for (const e of entries) io.out(`${lsLong(e.name, e.node)}\n`);
      } else for (const e of entries) io.out(`${e.name}\n`);
    }
    return status;
  },
  pwd: (sh, _args, io) => {
    io.out(`${sh.cwd}\n`);
    return 0;
  },
  cd: (sh, args, io) => {
    const target = args[0] ?? sh.env['HOME'] ?? '/';
    try {
      const path = sh.resolve(target);
      if (!sh.b.fs.stat(path).isDir) throw new FsError('ENOTDIR', path);
      sh.cwd = path;
      sh.env['PWD'] = path;
      return 0;
    } catch (e) {
      io.err(`sh: 1: cd: can't cd to ${target}: ${describeFsError(e)}\n`);
      return 2;
    }
  },
  sleep: async (sh, args, io) => {
    const ms = parseDuration(args[0] ?? '');
    if (ms === undefined) {
      io.err(`sleep: invalid time interval '${args[0] ?? ''}'\n`);
      return 1;
    }
    await sh.wait(ms, io);
    return io.signal.aborted ? 143 : 0;
  },
  true: () => 0,
  false: () => 1,
  exit: (sh, args) => {
    throw new ExitRequest(args[0] === undefined ? sh.lastStatus : Number.parseInt(args[0], 10) & 0xff);
  },
  whoami: (sh, _args, io) => {
    io.out(`${sh.user}\n`);
    return 0;
  },
  id: (sh, _args, io) => {
    const uid = sh.user === 'root' ? 0 : 1000;
    io.out(`uid=${uid}(${sh.user}) gid=${uid}(${sh.user}) groups=${uid}(${sh.user})\n`);
    return 0;
  },
  env: (sh, _args, io) => {
    for (const [k, v] of Object.entries(sh.env).sort(([a], [b]) => (a < b ? -1 : 1))) io.out(`${k}=${v}\n`);
    return 0;
  },
  printenv: (sh, args, io) => {
    if (args.length === 0) return BUILTINS['env']?.(sh, args, io) ?? 0;
    let status = 0;
    for (const name of args) {
      const v = sh.env[name];
      if (v === undefined) status = 1;
      else io.out(`${v}\n`);
    }
    return status;
  },
  mkdir: (sh, args, io) => {
    const { set, rest } = flags(args);
    let status = 0;
    for (const dir of rest) {
      const path = sh.resolve(dir);
      if (!set.has('p') && sh.b.fs.exists(path)) {
        io.err(`mkdir: cannot create directory '${dir}': File exists\n`);
        status = 1;
        continue;
      }
      if (!set.has('p') && !sh.b.fs.exists(dirname(path))) {
        io.err(`mkdir: cannot create directory '${dir}': No such file or directory\n`);
        status = 1;
        continue;
      }
      if (!fsDo('mkdir', dir, io, () => sh.b.fs.mkdir(path))) status = 1;
    }
    return status;
  },
  touch: (sh, args, io) => {
    let status = 0;
    for (const file of args) {
      const path = sh.resolve(file);
      const ok = fsDo('touch', file, io, () => {
        if (sh.b.fs.exists(path)) sh.b.fs.stat(path).mtime = new Date();
        else sh.b.fs.writeFile(path, Buffer.alloc(0));
      });
      if (!ok) status = 1;
    }
    return status;
  },
  rm: (sh, args, io) => {
    const { set, rest } = flags(args);
    let status = 0;
    for (const target of rest) {
      const path = sh.resolve(target);
      if (!sh.b.fs.exists(path)) {
        if (!set.has('f')) {
          io.err(`rm: cannot remove '${target}': No such file or directory\n`);
          status = 1;
        }
        continue;
      }
      const isDir = sh.b.fs.stat(path).isDir;
      if (isDir && !set.has('r') && !set.has('R')) {
        io.err(`rm: cannot remove '${target}': Is a directory\n`);
        status = 1;
        continue;
      }
      if (!fsDo('rm', target, io, () => (isDir ? sh.b.fs.removeDir(path) : sh.b.fs.removeFile(path)))) status = 1;
    }
    return status;
  },
  mv: (sh, args, io) => {
    const [src, dest] = args;
    if (!src || !dest) {
      io.err('mv: missing file operand\n');
      return 1;
    }
    let target = sh.resolve(dest);
    if (sh.b.fs.exists(target) && sh.b.fs.stat(target).isDir) target = `${target}/${basename(sh.resolve(src))}`;
    return fsDo('mv', src, io, () => sh.b.fs.move(sh.resolve(src), target)) ? 0 : 1;
  },
  cp: (sh, args, io) => {
    const [src, dest] = args;
    if (!src || !dest) {
      io.err('cp: missing file operand\n');
      return 1;
    }
    const data = readFileFor(sh, 'cp', src, io);
    if (!data) return 1;
    let target = sh.resolve(dest);
    if (sh.b.fs.exists(target) && sh.b.fs.stat(target).isDir) target = `${target}/${basename(sh.resolve(src))}`;
    return fsDo('cp', dest, io, () => sh.b.fs.writeFile(target, data)) ? 0 : 1;
  },
  head: async (sh, args, io) => {
    let n = 10;
    let rest = args;
    if (args[0] === '-n' && args[1]) {
      n = Number.parseInt(args[1], 10);
      rest = args.slice(2);
    } else if (/^-\d+$/.test(args[0] ?? '')) {
      n = Number.parseInt((args[0] ?? '').slice(1), 10);
      rest = args.slice(1);
    }
    const data = rest[0] ? readFileFor(sh, 'head', rest[0], io) : await readAll(io.stdin, io);
    if (!data) return 1;
    const lines = data.toString('utf8').split('\n');
    const hasTrailingNewline = lines[lines.length - 1] === '';
    const body = lines.slice(0, hasTrailingNewline ? -1 : undefined).slice(0, n);
    if (body.length > 0) io.out(`${body.join('\n')}\n`);
    return 0;
  },
  wc: async (sh, args, io) => {
    const { set, rest } = flags(args);
    const data = rest[0] ? readFileFor(sh, 'wc', rest[0], io) : await readAll(io.stdin, io);
    if (!data) return 1;
    const text = data.toString('utf8');
    const lines = (text.match(/\n/g) ?? []).length;
    const words = text.split(/\s+/).filter(Boolean).length;
    const suffix = rest[0] ? ` ${rest[0]}` : '';
    if (set.has('l')) io.out(`${lines}${suffix}\n`);
    else if (set.has('w')) io.out(`${words}${suffix}\n`);
    else if (set.has('c')) io.out(`${data.length}${suffix}\n`);
    else io.out(`${lines} ${words} ${data.length}${suffix}\n`);
    return 0;
  },
  seq: (_sh, args, io) => {
    const nums = args.map((a) => Number(a));
    if (nums.length === 0 || nums.some((n) => !Number.isFinite(n))) {
      io.err('seq: invalid argument\n');
      return 1;
    }
    const [first, step, last] = nums.length === 1 ? [1, 1, nums[0]] : nums.length === 2 ? [nums[0], 1, nums[1]] : nums;
    const lines: string[] = [];
    for (let v = first ?? 1; (step ?? 1) > 0 ? v <= (last ?? 0) : v >= (last ?? 0); v += step ?? 1) {
      lines.push(String(v));
      if (lines.length >= 100_000 || step === 0) break;
    }
    for (const line of lines) io.out(`${line}\n`);
    return 0;
  },
  /** Prints its argument (default `y`) once every eventIntervalMs until killed. */
  yes: async (sh, args, io) => {
    const text = args.length > 0 ? args.join(' ') : 'y';
    while (!io.signal.aborted) {
      io.out(`${text}\n`);
      await sh.wait(sh.sim.options.eventIntervalMs, io);
    }
    return 143;
  },
  date: (_sh, _args, io) => {
    io.out(`${new Date().toUTCString()}\n`);
    return 0;
  },
  uname: (_sh, args, io) => {
    io.out(args.includes('-a') ? 'Linux browser 6.1.0-kernel #1 SMP x86_64 GNU/Linux\n' : 'Linux\n');
    return 0;
  },
  hostname: (sh, _args, io) => {
    io.out(`${sh.env['HOSTNAME'] ?? 'browser'}\n`);
    return 0;
  },
  sh: async (sh, args, io) => {
    const i = args.indexOf('-c');
    if (i >= 0) {
      const sub = new Shell(sh.sim, sh.b, sh.cwd, { ...sh.env }, sh.user);
      return await sub.runProgram(args[i + 1] ?? '', io);
    }
    const scriptFile = args.find((a) => !a.startsWith('-'));
    if (scriptFile) {
      const data = readFileFor(sh, 'sh', scriptFile, io);
      if (!data) return 127;
      return await new Shell(sh.sim, sh.b, sh.cwd, { ...sh.env }, sh.user).runProgram(data.toString('utf8'), io);
    }
    return await interactive(new Shell(sh.sim, sh.b, sh.cwd, { ...sh.env }, sh.user), io);
  },
};
BUILTINS['bash'] = BUILTINS['sh'] as Builtin;
