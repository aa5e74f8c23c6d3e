/**
 * The code-mode sandbox on its own (QuickJS in WebAssembly): what agent code can and cannot reach, and every limit.
 * The host side here echoes its arguments; end-to-end runs against the simulator are in code-mode-e2e.
 */
import { describe, expect, it } from 'vitest';
import { type HostValue, OperationError, runSandbox, type SandboxLimits } from '../src/code/sandbox.js';
import { waitFor } from './helpers/simulator-client.js';

const LIMITS: SandboxLimits = {
  timeoutMs: 3000,
  memoryBytes: 32 * 1024 * 1024,
  maxOperations: 20,
  maxConsoleChars: 2000,
  maxSleepMs: 1000,
};

const calls: { path: string; args: unknown }[] = [];
async function call(path: string, args: unknown, signal: AbortSignal): Promise<HostValue> {
  calls.push({ path, args });
  if (path === 'browsers.fail') throw new OperationError('Kernel API 404 not_found: browser x not found');
  if (path === 'browsers.hang') {
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
  }
  if (path === 'browsers.computer.captureScreenshot') {
    return { bytes: new Uint8Array([137, 80, 78, 71]), mediaType: 'image/png' };
  }
  if (path === 'browsers.fs.readFile') return { bytes: new TextEncoder().encode('héllo'), mediaType: 'text/plain' };
  return { json: { path, args } };
}

const OPS = [
  'browsers.create',
  'browsers.delete',
  'browsers.fail',
  'browsers.hang',
  'browsers.computer.captureScreenshot',
  'browsers.fs.readFile',
];

function run(code: string, limits: Partial<SandboxLimits> = {}, signal = new AbortController().signal) {
  return runSandbox(code, { operations: OPS, call, limits: { ...LIMITS, ...limits }, signal });
}

describe('code-mode sandbox', () => {
  it('runs async code against the kernel object and returns JSON, console and operations', async () => {
    const r = await run(`
      const b = await kernel.browsers.create({ headless: true });
      console.log('created', b.path);
      await kernel.browsers.delete({ id: 'x' });
      return { made: b.args, n: 2 };`);
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.value).toEqual({ made: { headless: true }, n: 2 });
    expect(r.console).toEqual(['log: created browsers.create']);
    expect(r.operations).toEqual([
      { path: 'browsers.create', ok: true },
      { path: 'browsers.delete', ok: true },
    ]);
  });

  it('hands binary answers in as bytes, decodes text, and shows images', async () => {
    const r = await run(`
      const shot = await kernel.browsers.computer.captureScreenshot({ id: 'b' });
      kernel.show(shot);
      const file = await kernel.browsers.fs.readFile({ id: 'b', path: '/t' });
      return { png: shot instanceof Uint8Array, type: shot.mediaType, len: shot.length, text: kernel.text(file) };`);
    expect(r.value).toEqual({ png: true, type: 'image/png', len: 4, text: 'héllo' });
    expect(r.shown).toHaveLength(1);
    expect([...(r.shown[0]?.bytes ?? [])]).toEqual([137, 80, 78, 71]);
  });

  it('a failing operation throws inside the sandbox, where the code can catch it and clean up', async () => {
    const r = await run(`
      try { await kernel.browsers.fail({ id: 'x' }); }
      catch (e) { console.error(e.message); }
      finally { await kernel.browsers.delete({ id: 'x' }); }
      return 'done';`);
    expect(r.value).toBe('done');
    expect(r.console[0]).toContain('Kernel API 404');
    expect(r.operations.map((o) => o.ok)).toEqual([false, true]);
  });

  it('a thrown error answers its message and the line of the agent code', async () => {
    const r = await run(`const a = 1;\nconst b = 2;\nthrow new Error('boom at three');`);
    expect(r.ok).toBe(false);
    expect(r.error?.message).toBe('Error: boom at three');
    expect(r.error?.line).toBe(3);
    const syntax = await run('const = 1;');
    expect(syntax.error?.message).toMatch(/SyntaxError/);
  });

  it.each([
    ['process', 'typeof process'],
    ['require', 'typeof require'],
    ['fetch', 'typeof fetch'],
    ['setTimeout', 'typeof setTimeout'],
    ['host functions', 'typeof __host_call'],
  ])('has no %s', async (_, expr) => {
    expect((await run(`return ${expr};`)).value).toBe('undefined');
  });

  it('refuses import(), and the Function constructor reaches only the sandbox', async () => {
    const imp = await run(`return await import('node:fs');`);
    expect(imp.ok).toBe(false);
    const fn = await run(`return Function('return typeof globalThis.process')();`);
    expect(fn.value).toBe('undefined');
    const ctor = await run(`return (async () => {}).constructor('return typeof require')().then ? 'promise' : 'x';`);
    expect(ctor.ok).toBe(true);
  });

  it('returned values cannot pollute host prototypes', async () => {
    const r = await run(`return JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');`);
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  });

  it('stops an infinite loop at the time limit', async () => {
    const r = await run('for (;;) {}', { timeoutMs: 300 });
    expect(r.error?.limit).toBe('timeout');
    expect(r.error?.message).toMatch(/time limit/);
  });

  it('stops a memory bomb at the memory limit', async () => {
    const r = await run(`const a = []; for (;;) a.push(new Array(100000).fill(1.5));`, { memoryBytes: 8 << 20 });
    expect(r.ok).toBe(false);
    expect(r.error?.limit).toBe('memory');
  });

  it('stops a deep recursion and a deeply nested parse with a stack overflow, not a crash', async () => {
    const r = await run('function f(n) { return f(n + 1) + 1; } return f(0);');
    expect(r.error?.message).toMatch(/stack overflow/);
    const p = await run(`return JSON.parse('['.repeat(200000) + ']'.repeat(200000));`);
    expect(p.error?.message).toMatch(/stack overflow/);
    expect((await run('return 1 + 1;')).value).toBe(2);
  });

  it('stops a flood of operations at the operation limit, saying what ran', async () => {
    const r = await run('for (let i = 0; i < 1000; i++) await kernel.browsers.create({ i });', { maxOperations: 5 });
    expect(r.error?.limit).toBe('operations');
    expect(r.operations).toHaveLength(5);
  });

  it('ends a never-resolving promise at the time limit', async () => {
    const r = await run('await new Promise(() => {}); return 1;', { timeoutMs: 300 });
    expect(r.error?.limit).toBe('timeout');
    const hang = await run(`await kernel.browsers.hang({}); return 1;`, { timeoutMs: 300 });
    expect(hang.error?.limit).toBe('timeout');
  });

  it('is cancelled mid-run, aborting the operation in flight', async () => {
    const ac = new AbortController();
    const before = calls.length;
    const pending = run(`await kernel.browsers.hang({}); return 1;`, { timeoutMs: 10_000 }, ac.signal);
    // Cancelled once the operation is in flight.
    await waitFor(() => calls.slice(before).some((c) => c.path === 'browsers.hang'));
    ac.abort();
    const r = await pending;
    expect(r.error?.limit).toBe('cancelled');
  });

  it('bounds the console and sleep', async () => {
    const r = await run(`for (let i = 0; i < 1000; i++) console.log('line ' + i); await kernel.sleep(5); return 1;`, {
      maxConsoleChars: 100,
    });
    expect(r.value).toBe(1);
    expect(r.console.join('').length).toBeLessThanOrEqual(100);
    expect(r.consoleDropped).toBeGreaterThan(900);
  });

  it('keeps working after every kind of failure (no leaked handles, the engine reused)', async () => {
    for (let i = 0; i < 3; i++) {
      await run('for (;;) {}', { timeoutMs: 50 });
      await run(`await kernel.browsers.hang({});`, { timeoutMs: 50 });
      expect((await run('return [1, 2, 3].map((x) => x * 2);')).value).toEqual([2, 4, 6]);
    }
  });
});
