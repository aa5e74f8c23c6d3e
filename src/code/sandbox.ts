/**
 * The code-mode sandbox: agent-written JavaScript runs in QuickJS compiled to WebAssembly (quickjs-emscripten), a
 * separate heap with no access to the host. Inside there is no require/import, network, filesystem or timers; only
 * the `kernel` API (each call goes back to the host), a captured `console`, and a bounded `kernel.sleep`. Every run
 * gets a fresh runtime with a memory limit, a stack limit, an interrupt deadline and an operation budget.
 */
import type {
  QuickJSContext,
  QuickJSDeferredPromise,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
} from 'quickjs-emscripten-core';

export interface SandboxLimits {
  /** Wall-clock time for the whole run (code and every operation it awaits). */
  timeoutMs: number;
  /** The QuickJS heap. */
  memoryBytes: number;
  /** Operations (`kernel.*` calls) one run may make. */
  maxOperations: number;
  /** Characters of captured console output kept (the rest is counted, not kept). */
  maxConsoleChars: number;
  /** The longest one `kernel.sleep(ms)` may wait. */
  maxSleepMs: number;
}

/** What an operation answers into the sandbox: JSON, or bytes (with their media type). */
export type HostValue = { json: unknown } | { bytes: Uint8Array; mediaType: string };

/** Thrown by a host operation to reject the sandbox's promise with this message (the agent's code may catch it). */
export class OperationError extends Error {
  override name = 'OperationError';
}

export interface SandboxOptions {
  /** The operation paths the `kernel` object exposes, e.g. `browsers.computer.captureScreenshot`. */
  operations: readonly string[];
  /** Runs one operation for the sandbox; a thrown OperationError rejects the call inside the sandbox. */
  call(path: string, args: unknown, signal: AbortSignal): Promise<HostValue>;
  limits: SandboxLimits;
  signal: AbortSignal;
}

export type LimitName = 'timeout' | 'memory' | 'stack' | 'operations' | 'cancelled';

export interface SandboxResult {
  ok: boolean;
  /** The value the code returned, as JSON (undefined when it returned nothing). */
  value?: unknown;
  error?: { message: string; line?: number; limit?: LimitName };
  console: string[];
  consoleDropped: number;
  /** Images the code asked to show with `kernel.show(...)`, in order. */
  shown: { bytes: Uint8Array; mediaType: string }[];
  /** The operations the run made, in order, and whether each succeeded. */
  operations: { path: string; ok: boolean }[];
}

/** Node's WebAssembly API (TypeScript types it only in the DOM lib). */
type WasmMemory = object;
const Wasm = (
  globalThis as unknown as {
    WebAssembly: {
      compile(bytes: Uint8Array): Promise<object>;
      Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
    };
  }
).WebAssembly;

interface Engine {
  instantiate(memory: WasmMemory): Promise<QuickJSWASMModule>;
}

let enginePromise: Promise<Engine> | undefined;

/** QuickJS's WebAssembly, compiled once per process on the first run. */
async function engine(): Promise<Engine> {
  enginePromise ??= (async () => {
    const [{ newQuickJSWASMModuleFromVariant, newVariant }, variant, { readFile }, { createRequire }] =
      await Promise.all([
        import('quickjs-emscripten-core'),
        import('@jitl/quickjs-wasmfile-release-sync'),
        import('node:fs/promises'),
        import('node:module'),
      ]);
    const wasm = createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
    const compiled = await Wasm.compile(await readFile(wasm));
    type Options = Parameters<typeof newVariant>[1];
    const base = variant.default as unknown as Parameters<typeof newVariant>[0];
    return {
      instantiate: (memory) =>
        newQuickJSWASMModuleFromVariant(
          newVariant(base, { wasmModule: compiled, wasmMemory: memory } as Options) as unknown as Parameters<
            typeof newQuickJSWASMModuleFromVariant
          >[0],
        ),
    };
  })();
  return enginePromise;
}

/** Compiles the engine ahead of the first run (benchmarks, and a server that wants its first call fast). */
export async function warmSandbox(): Promise<void> {
  await engine();
}

const PAGE = 64 * 1024;
/** The engine's own needs (stack, static data) on top of the heap limit: the smallest memory it instantiates in. */
const MIN_PAGES = 256;

// QuickJS checks its own stack against this; it must be well inside the host's stack so that a deep recursion or
// a deeply nested JSON.parse is a catchable "stack overflow" in the sandbox, never a host RangeError.
const STACK_BYTES = 128 * 1024;

/**
 * Runs inside the sandbox before the agent's code: builds `kernel` from the operation paths and the host functions,
 * and the captured console. Host functions are removed from globalThis once captured here.
 */
const PRELUDE = `
'use strict';
const __h = { call: __host_call, show: __host_show, sleep: __host_sleep, log: __host_log, text: __host_text };
delete globalThis.__host_call; delete globalThis.__host_show; delete globalThis.__host_sleep;
delete globalThis.__host_log; delete globalThis.__host_text;
const __wrap = (r) => (r && r.__bytes !== undefined ? Object.assign(new Uint8Array(r.__bytes), { mediaType: r.mediaType }) : r);
const kernel = {};
for (const path of __operations) {
  const parts = path.split('.');
  let node = kernel;
  for (const p of parts.slice(0, -1)) node = node[p] ??= {};
  const name = parts[parts.length - 1];
  node[name] = async (args) => {
    const site = new Error('kernel.' + path);
    try {
      return __wrap(await __h.call(path, JSON.stringify(args === undefined ? {} : args)));
    } catch (e) {
      // Rethrown from the call site, so the error names the line of the agent's code that made the call.
      const err = new Error(e && e.message ? e.message : String(e));
      err.stack = site.stack;
      throw err;
    }
  };
}
kernel.show = (image) => {
  if (!(image instanceof Uint8Array)) throw new TypeError('kernel.show takes the bytes a screenshot operation answered');
  __h.show(image.buffer.slice(image.byteOffset, image.byteOffset + image.byteLength), String(image.mediaType ?? 'image/png'));
  return image;
};
kernel.text = (bytes) => {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('kernel.text takes a Uint8Array');
  return __h.text(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};
kernel.sleep = (ms) => __h.sleep(Number(ms) || 0);
const __fmt = (v) => {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.name + ': ' + v.message;
  try { return JSON.stringify(v); } catch { return String(v); }
};
globalThis.console = Object.freeze({
  log: (...a) => __h.log('log', a.map(__fmt).join(' ')),
  info: (...a) => __h.log('info', a.map(__fmt).join(' ')),
  warn: (...a) => __h.log('warn', a.map(__fmt).join(' ')),
  error: (...a) => __h.log('error', a.map(__fmt).join(' ')),
  debug: (...a) => __h.log('debug', a.map(__fmt).join(' ')),
});
Object.freeze(kernel);
globalThis.kernel = kernel;
`;

/** The agent's code is the body of an async function, on the same lines as written (line 1 is line 1). */
function wrapAgentCode(code: string): string {
  return `(async () => {${code}\n})().then((v) => { globalThis.__result = v === undefined ? undefined : JSON.stringify(v); })`;
}

class LimitError extends Error {
  constructor(
    readonly limit: LimitName,
    message: string,
  ) {
    super(message);
  }
}

/** The line of the agent's code an error names (agent.js:LINE in QuickJS stacks). */
function agentLine(stack: unknown): number | undefined {
  const m = /agent\.js:(\d+)/.exec(String(stack ?? ''));
  return m ? Number(m[1]) : undefined;
}

type Dumped = { message?: string; stack?: string; name?: string } | string | undefined;

/** An error the sandbox threw, as the answer says it: message, the agent's line, and the limit it hit if any. */
function describe(dumped: Dumped, timeoutMs: number): NonNullable<SandboxResult['error']> {
  const e = typeof dumped === 'object' && dumped ? dumped : { message: String(dumped) };
  const message = String(e.message ?? '');
  const line = agentLine(e.stack);
  const at = line ? { line } : {};
  if (/^interrupted$/.test(message)) {
    return { message: `the code ran past its ${timeoutMs / 1000} s time limit`, ...at, limit: 'timeout' };
  }
  const limit = /out of memory/i.test(message) ? 'memory' : /stack overflow/i.test(message) ? 'stack' : undefined;
  return { message: `${e.name ?? 'Error'}: ${message}`, ...at, ...(limit ? { limit } : {}) };
}

export async function runSandbox(code: string, options: SandboxOptions): Promise<SandboxResult> {
  const { limits } = options;
  const result: SandboxResult = { ok: false, console: [], consoleDropped: 0, shown: [], operations: [] };
  let consoleChars = 0;
  const started = Date.now();
  const deadline = started + limits.timeoutMs;
  const inner = new AbortController();
  let stopped: LimitError | undefined;
  const stop = (err: LimitError) => {
    stopped ??= err;
    inner.abort(err);
  };
  const onAbort = () => stop(new LimitError('cancelled', 'the call was cancelled'));
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => stop(new LimitError('timeout', `the code ran past its ${limits.timeoutMs / 1000} s time limit`)),
    limits.timeoutMs,
  );

  // Each run gets its own WebAssembly instance and memory, bounded: QuickJS's own malloc limit is not enforced in
  // this build (no malloc_usable_size), so the memory's maximum is the limit, and all of it is dropped afterwards.
  const pages = Math.max(MIN_PAGES + 16, Math.ceil(limits.memoryBytes / PAGE));
  const memory = new Wasm.Memory({ initial: MIN_PAGES, maximum: pages });
  const mod = await (await engine()).instantiate(memory);
  const rt: QuickJSRuntime = mod.newRuntime();
  rt.setMemoryLimit(limits.memoryBytes);
  rt.setMaxStackSize(STACK_BYTES);
  rt.setInterruptHandler(() => stopped !== undefined || Date.now() > deadline);
  const vm: QuickJSContext = rt.newContext();
  /** Host work still running for the sandbox; each settles a deferred promise inside it. */
  const pending = new Set<Promise<void>>();
  let wake: () => void = () => {};
  const settled = () => wake();

  const defineHost = (name: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
    const h = vm.newFunction(name, fn);
    vm.setProp(vm.global, name, h);
    h.dispose();
  };

  /** Promises inside the sandbox that host work has not settled yet: rejected before the context is disposed. */
  const open = new Set<QuickJSDeferredPromise>();
  /** A promise inside the sandbox, settled by host work. */
  const deferred = (work: () => Promise<(vm: QuickJSContext) => QuickJSHandle>, reject: (e: unknown) => string) => {
    const d = vm.newPromise();
    open.add(d);
    const job = (async () => {
      let make: ((vm: QuickJSContext) => QuickJSHandle) | undefined;
      let failure: string | undefined;
      try {
        make = await work();
      } catch (e) {
        failure = reject(e);
      }
      if (!vm.alive || !open.delete(d)) return;
      let value: QuickJSHandle | undefined;
      try {
        value = make?.(vm);
      } catch (e) {
        failure = `could not pass the answer into the sandbox: ${(e as Error).message}`;
      }
      if (value) {
        d.resolve(value);
        value.dispose();
      } else {
        const error = vm.newError(failure ?? 'no answer');
        d.reject(error);
        error.dispose();
      }
    })().finally(() => {
      pending.delete(job);
      settled();
    });
    pending.add(job);
    return d.handle;
  };

  let promise: QuickJSHandle | undefined;
  try {
    const ops = vm.newArray();
    options.operations.forEach((p, i) => {
      const s = vm.newString(p);
      vm.setProp(ops, i, s);
      s.dispose();
    });
    vm.setProp(vm.global, '__operations', ops);
    ops.dispose();

    defineHost('__host_call', (pathH, argsH) => {
      const path = vm.getString(pathH as QuickJSHandle);
      const argsJson = vm.getString(argsH as QuickJSHandle);
      if (result.operations.length >= limits.maxOperations) {
        stop(new LimitError('operations', `the code made more than ${limits.maxOperations} operations`));
      }
      return deferred(
        async () => {
          if (stopped) throw stopped;
          const entry = { path, ok: false };
          result.operations.push(entry);
          const answer = await options.call(path, JSON.parse(argsJson), inner.signal);
          entry.ok = true;
          if ('bytes' in answer) {
            const bytes = answer.bytes;
            return (ctx) => {
              const obj = ctx.newObject();
              const buf = ctx.newArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
              ctx.setProp(obj, '__bytes', buf);
              buf.dispose();
              const mt = ctx.newString(answer.mediaType);
              ctx.setProp(obj, 'mediaType', mt);
              mt.dispose();
              return obj;
            };
          }
          const json = JSON.stringify(answer.json ?? null);
          return (ctx) => {
            const parsed = ctx.evalCode(`(${json})`, 'answer.json');
            return ctx.unwrapResult(parsed);
          };
        },
        (e) => (e instanceof LimitError ? `stopped: ${e.message}` : `${path}: ${(e as Error).message}`),
      );
    });
    defineHost('__host_show', (bufH, typeH) => {
      const bytes = new Uint8Array(vm.getArrayBuffer(bufH as QuickJSHandle).value.slice());
      result.shown.push({ bytes, mediaType: vm.getString(typeH as QuickJSHandle) });
      return undefined;
    });
    defineHost('__host_text', (bufH) => {
      const bytes = vm.getArrayBuffer(bufH as QuickJSHandle).value;
      return vm.newString(new TextDecoder().decode(bytes));
    });
    defineHost('__host_sleep', (msH) => {
      const ms = Math.max(0, Math.min(vm.getNumber(msH as QuickJSHandle), limits.maxSleepMs));
      return deferred(
        () =>
          new Promise((resolve, reject) => {
            if (stopped) return reject(stopped);
            const t = setTimeout(() => resolve((ctx) => ctx.undefined), ms);
            inner.signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(stopped);
            });
          }),
        (e) => (e instanceof LimitError ? `stopped: ${e.message}` : String(e)),
      );
    });
    defineHost('__host_log', (levelH, textH) => {
      const line = `${vm.getString(levelH as QuickJSHandle)}: ${vm.getString(textH as QuickJSHandle)}`;
      if (consoleChars + line.length > limits.maxConsoleChars) result.consoleDropped++;
      else {
        consoleChars += line.length;
        result.console.push(line);
      }
      return undefined;
    });

    vm.unwrapResult(vm.evalCode(PRELUDE, 'prelude.js')).dispose();
    const evaluated = vm.evalCode(wrapAgentCode(code), 'agent.js');
    if (evaluated.error) {
      const err = vm.dump(evaluated.error) as Dumped;
      evaluated.error.dispose();
      result.error = stopped ? { message: stopped.message, limit: stopped.limit } : describe(err, limits.timeoutMs);
      return result;
    }
    promise = evaluated.value;
    const outcome = vm.getPromiseState(promise);
    // Drive the sandbox: run its jobs, then wait for host work to settle a promise, until the code's promise settles.
    let state = outcome;
    for (;;) {
      const jobs = rt.executePendingJobs();
      if (jobs.error) {
        // An error thrown outside any promise chain (e.g. an interrupt while running a job).
        const err = vm.dump(jobs.error) as Dumped;
        jobs.error.dispose();
        if (stopped) throw stopped;
        result.error = describe(err, limits.timeoutMs);
        return result;
      }
      state = vm.getPromiseState(promise);
      if (state.type !== 'pending') break;
      if (stopped) throw stopped;
      if (pending.size === 0) {
        // Nothing outside can settle it: a promise that never resolves. Wait for the deadline or cancellation.
        await new Promise<void>((resolve) => {
          inner.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        throw stopped ?? new LimitError('timeout', 'the code waited on a promise that never settles');
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        inner.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    promise.dispose();
    promise = undefined;
    if (state.type === 'rejected') {
      const err = vm.dump(state.error) as Dumped;
      state.error.dispose();
      if (stopped) throw stopped;
      result.error = describe(err, limits.timeoutMs);
      return result;
    }
    state.value.dispose();
    const out = vm.getProp(vm.global, '__result');
    const text = vm.typeof(out) === 'string' ? vm.getString(out) : undefined;
    out.dispose();
    result.value = text === undefined ? undefined : JSON.parse(text);
    result.ok = true;
    return result;
  } catch (err) {
    if (err instanceof LimitError || stopped) {
      const limit = (err instanceof LimitError ? err : stopped) as LimitError;
      result.error = { message: limit.message, limit: limit.limit };
      return result;
    }
    const message = (err as Error).message ?? String(err);
    if (err instanceof RangeError || (err as Error).name === 'RuntimeError') {
      // The engine itself failed (the host stack, or an abort inside QuickJS): its instance is dropped below.
      result.error = { message: `the sandbox engine stopped: ${message}`, limit: 'stack' };
      return result;
    }
    result.error = describe({ name: (err as Error).name, message, stack: (err as Error).stack }, limits.timeoutMs);
    return result;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
    inner.abort();
    // Host work still in flight settles into a dead context (it checks vm.alive and drops its value); its promises
    // inside are rejected now so that no handle outlives the context.
    try {
      for (const d of open) d.reject();
      open.clear();
      if (promise?.alive) promise.dispose();
      vm.dispose();
      rt.dispose();
    } catch {
      // A run that broke the engine leaves it inconsistent; the instance and its memory are dropped either way.
    }
  }
}
