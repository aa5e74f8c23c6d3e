/**
 * Fixtures for a `describe`: each starts a simulator and the built CLI in front of it (over stdio or HTTP) before
 * the tests and stops them after. Read the fields inside tests (they are set once `beforeAll` has run).
 */
import { afterAll, beforeAll } from 'vitest';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { closeAll, type HttpServerProcess, type KeyRouter, keyRouter, startHttp } from './http.js';
import { connectStdio, type Era, type McpSession } from './mcp.js';

/**
 * A simulator for the enclosing `describe` (or file): started in `beforeAll`, closed in `afterAll`. The value
 * returned stands for it and may be used from the tests on (`sim.url`, `sim.requests`, `sim.setFaults(...)`).
 */
export function useSimulator(options: SimulatorOptions = {}): Simulator {
  let current: Simulator | undefined;
  beforeAll(async () => {
    current = await startSimulator(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  return new Proxy({} as Simulator, {
    get(_, key) {
      if (!current) throw new Error('the simulator starts in beforeAll: use it inside hooks and tests');
      const value = Reflect.get(current, key, current);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/** A simulator and a client of `era` on the CLI over stdio, using the simulator with `key`. */
export interface SimulatorBehindStdio {
  sim: Simulator;
  mcp: McpSession;
}

export function useSimulatorBehindStdio(era: Era, options: { key: string; args?: string[] }): SimulatorBehindStdio {
  const f = {} as SimulatorBehindStdio;
  beforeAll(async () => {
    f.sim = await startSimulator({ apiKey: options.key });
    f.mcp = await connectStdio(era, {
      args: options.args ?? [],
      env: { KERNEL_API_KEY: options.key, KERNEL_BASE_URL: f.sim.url },
    });
  });
  afterAll(() => closeAll(f.mcp, f.sim));
  return f;
}

/** Two Kernel accounts behind a router that picks one by the bearer key, and a `--auth passthrough` server. */
export interface PassthroughAccounts {
  simA: Simulator;
  simB: Simulator;
  router: KeyRouter;
  srv: HttpServerProcess;
}

/** The simulators have different seeds: the two accounts' ids must differ for the isolation checks to mean anything. */
export function usePassthroughAccounts(keyA: string, keyB: string, args: string[] = []): PassthroughAccounts {
  const accounts = {} as PassthroughAccounts;
  beforeAll(async () => {
    accounts.simA = await startSimulator({ seed: 1 });
    accounts.simB = await startSimulator({ seed: 2 });
    accounts.router = await keyRouter({ [keyA]: accounts.simA, [keyB]: accounts.simB });
    accounts.srv = await startHttp({ args: ['--auth', 'passthrough', '--base-url', accounts.router.url, ...args] });
  });
  afterAll(() => closeAll(accounts.srv, accounts.router, accounts.simA, accounts.simB));
  return accounts;
}

/** A simulator and, in front of it, the HTTP server using it with `key` (and requiring `token` when given). */
export interface SimulatorBehindHttp {
  sim: Simulator;
  srv: HttpServerProcess;
}

export function useSimulatorBehindHttp(options: { key: string; token?: string; args?: string[] }): SimulatorBehindHttp {
  const f = {} as SimulatorBehindHttp;
  beforeAll(async () => {
    f.sim = await startSimulator({ apiKey: options.key });
    const env = { KERNEL_API_KEY: options.key, KERNEL_BASE_URL: f.sim.url };
    f.srv = await startHttp({
      args: options.args ?? [],
      env: options.token ? { ...env, KERNEL_MCP_HTTP_TOKEN: options.token } : env,
    });
  });
  afterAll(() => closeAll(f.srv, f.sim));
  return f;
}
