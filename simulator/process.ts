/**
 * Processes: exec (synchronous, base64 output), spawn (output streamed over SSE, then an `exit` event), status,
 * stdin, kill, resize. Commands run in the simulated shell (shell.ts) against the session's filesystem. With
 * explicit `args` the command is executed directly; without, `command` is parsed as a shell script.
 */
import { requireBrowser, serveBrowserSse } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest, notFound } from './errors.js';
import { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, json, param } from './http.js';
import { MemFs } from './memfs.js';
import { BufferStdin, type Io, QueueStdin, Shell } from './shell.js';
import type { BrowserRecord, ProcessRecord, ProcessStreamEvent } from './types.js';
import { nowIso } from './util.js';

interface ExecBody {
  command: string;
  args?: string[];
  cwd?: string | null;
  env?: Record<string, string>;
  as_user?: string | null;
  as_root?: boolean;
  timeout_sec?: number | null;
  allocate_tty?: boolean;
  rows?: number;
  cols?: number;
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, KILL: 9, TERM: 15 };
const TIMEOUT_EXIT = 124;

function makeShell(sim: SimContext, b: BrowserRecord, body: ExecBody): Shell {
  const user = body.as_root ? 'root' : (body.as_user ?? 'kernel');
  const home = user === 'root' ? '/root' : `/home/${user}`;
  const cwd = body.cwd ? MemFs.normalize(body.cwd) : b.fs.exists(home) ? home : '/';
  if (body.cwd && !(b.fs.exists(cwd) && b.fs.stat(cwd).isDir)) {
    throw badRequest(`cwd: directory ${cwd} does not exist`);
  }
  const hostname = b.fs.exists('/etc/hostname') ? b.fs.readFile('/etc/hostname').toString('utf8').trim() : 'browser';
  const env: Record<string, string> = {
    HOME: home,
    USER: user,
    LOGNAME: user,
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    SHELL: '/bin/bash',
    DISPLAY: ':1',
    HOSTNAME: hostname,
    PWD: cwd,
    ...body.env,
  };
  return new Shell(sim, b, cwd, env, user);
}

function run(sh: Shell, body: ExecBody, io: Io): Promise<number> {
  const args = body.args ?? [];
  return args.length > 0 ? sh.runArgv([body.command, ...args], io) : sh.runProgram(body.command, io);
}

async function exec(ctx: Ctx): Promise<Reply> {
  const b = requireBrowser(ctx);
  const body = bodyOf<ExecBody>(ctx);
  const sh = makeShell(ctx.sim, b, body);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const controller = new AbortController();
  const io: Io = {
    stdin: new BufferStdin(),
    out: (d) => stdout.push(Buffer.from(d)),
    err: (d) => stderr.push(Buffer.from(d)),
    signal: controller.signal,
  };
  // A client that gives up on the request takes the command down with it.
  const abandon = (): void => controller.abort();
  ctx.res.once('close', abandon);
  const started = Date.now();
  let exitCode: number;
  if (body.timeout_sec) {
    const timeoutMs = body.timeout_sec * 1000;
    exitCode = await Promise.race([
      run(sh, body, io),
      ctx.sim.timers.sleep(timeoutMs).then(() => {
        controller.abort();
        stderr.push(Buffer.from(`process timed out after ${body.timeout_sec}s\n`));
        return TIMEOUT_EXIT;
      }),
    ]);
  } else exitCode = await run(sh, body, io);
  ctx.res.off('close', abandon);
  return json(200, {
    exit_code: exitCode,
    stdout_b64: Buffer.concat(stdout).toString('base64'),
    stderr_b64: Buffer.concat(stderr).toString('base64'),
    duration_ms: Date.now() - started,
  });
}

function spawn(ctx: Ctx): Reply {
  const { sim } = ctx;
  const b = requireBrowser(ctx);
  const body = bodyOf<ExecBody>(ctx);
  const sh = makeShell(sim, b, body);
  const tty = body.allocate_tty ?? false;
  const log = new EventLog<ProcessStreamEvent>(100_000);
  const stdin = new QueueStdin();
  const controller = new AbortController();
  const emit = (stream: 'stdout' | 'stderr', d: Buffer | string): void => {
    if (record.state !== 'running') return;
    let data = Buffer.from(d);
    if (tty) data = Buffer.from(data.toString('utf8').replace(/\r?\n/g, '\r\n'));
    if (data.length > 0) log.push({ stream: tty ? 'stdout' : stream, data_b64: data.toString('base64') });
  };
  const finish = (code: number): void => {
    if (record.state === 'exited') return;
    record.state = 'exited';
    record.exitCode = code;
    log.push({ event: 'exit', exit_code: code });
    log.finish();
    stdin.close();
  };
  const kill = (signalName: string): void => {
    controller.abort();
    finish(128 + (SIGNALS[signalName] ?? 15));
  };
  const record: ProcessRecord = {
    id: sim.ids.uuid(),
    pid: sim.state.nextPid++,
    startedAt: nowIso(),
    state: 'running',
    tty,
    rows: tty ? (body.rows ?? 24) : undefined,
    cols: tty ? (body.cols ?? 80) : undefined,
    log,
    writeStdin: (data) => {
      if (tty) emit('stdout', data); // the PTY echoes input
      stdin.write(data);
    },
    kill,
  };
  b.processes.set(record.id, record);
  b.onEnd.push(() => kill('KILL'));
  run(sh, body, {
    stdin,
    out: (d) => emit('stdout', d),
    err: (d) => emit('stderr', d),
    signal: controller.signal,
    tty,
  }).then(finish, (e) => {
    emit('stderr', `${(e as Error).message}\n`);
    finish(1);
  });
  return json(200, { process_id: record.id, pid: record.pid, started_at: record.startedAt });
}

function lookup(ctx: Ctx): { b: BrowserRecord; p: ProcessRecord } {
  const b = requireBrowser(ctx);
  const id = param(ctx, 'process_id');
  const p = b.processes.get(id);
  if (!p) throw notFound('process', id);
  return { b, p };
}

function requireRunning(p: ProcessRecord): void {
  if (p.state !== 'running') throw badRequest(`process ${p.id} has already exited (exit code ${p.exitCode})`);
}

export const PROCESS_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/browsers/{id}/process/exec',
    operationId: 'processExec',
    handler: exec,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/process/spawn',
    operationId: 'processSpawn',
    handler: spawn,
  },
  {
    method: 'GET',
    path: '/browsers/{id}/process/{process_id}/status',
    operationId: 'processStatus',
    handler: (ctx) => {
      const { p } = lookup(ctx);
      const running = p.state === 'running';
      return json(200, {
        state: p.state,
        ...(running ? {} : { exit_code: p.exitCode }),
        cpu_pct: running ? 0.4 : 0,
        mem_bytes: running ? 3_145_728 : 0,
      });
    },
  },
  {
    method: 'GET',
    path: '/browsers/{id}/process/{process_id}/stdout/stream',
    operationId: 'processStdoutStream',
    handler: (ctx) => {
      const { b, p } = lookup(ctx);
      return serveBrowserSse(ctx, b, p.log);
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/process/{process_id}/stdin',
    operationId: 'processStdin',
    handler: (ctx) => {
      const { p } = lookup(ctx);
      const encoded = bodyOf<{ data_b64: string }>(ctx).data_b64;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
        throw badRequest('data_b64 must be valid base64');
      }
      requireRunning(p);
      const data = Buffer.from(encoded, 'base64');
      p.writeStdin(data);
      return json(200, { written_bytes: data.length });
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/process/{process_id}/kill',
    operationId: 'processKill',
    handler: (ctx) => {
      const { p } = lookup(ctx);
      requireRunning(p);
      p.kill(bodyOf<{ signal: string }>(ctx).signal);
      return json(200, { ok: true });
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/process/{process_id}/resize',
    operationId: 'processResize',
    handler: (ctx) => {
      const { p } = lookup(ctx);
      if (!p.tty) throw badRequest(`process ${p.id} has no PTY (spawn it with allocate_tty: true)`);
      requireRunning(p);
      const { rows, cols } = bodyOf<{ rows: number; cols: number }>(ctx);
      p.rows = rows;
      p.cols = cols;
      return json(200, { ok: true });
    },
  },
];
