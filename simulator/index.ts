/**
 * Built-in Kernel API simulator: a stateful, loopback-only implementation of every operation in
 * spec/kernel-openapi.yml, with SSE streams that resume from Last-Event-ID and deterministic fault injection.
 */
import { startIdleSweeper } from './browsers.js';
import type { ResolvedOptions, SimContext } from './context.js';
import { FaultController, type SimulatorFaults } from './faults.js';
import { ROUTES } from './routes.js';
import { createHttpServer, type RecordedRequest } from './server.js';
import { SimState } from './state.js';
import { telemetryEnabled } from './telemetry.js';
import type { Json } from './types.js';
import { Ids, nowIso, Timers } from './util.js';

export type { FaultRule, SimulatorFaults } from './faults.js';
export type { RecordedRequest } from './server.js';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** If set, only this bearer token (or keys created through /org/api_keys) is accepted; otherwise any. */
  apiKey?: string;
  faults?: SimulatorFaults;
  /** Interval of `: keepalive` comments on open SSE responses. Default 15000. */
  keepaliveMs?: number;
  /** Pace of generated stream events and of simulated state changes. Default 100. */
  eventIntervalMs?: number;
  /** Seed of the id generator (ids are deterministic for a given seed and call order). */
  seed?: number;
  /** End sessions idle for longer than their timeout_seconds, like Kernel. Default true. */
  enforceBrowserTimeouts?: boolean;
  /** Bound of `requests` (the oldest tenth is dropped when it is exceeded). Default 100000. */
  maxRecordedRequests?: number;
}

export interface Simulator {
  /** e.g. http://127.0.0.1:43121 */
  url: string;
  /** Replaces the current faults. */
  setFaults(faults: SimulatorFaults): void;
  /** The current faults, with their remaining counts. */
  getFaults(): SimulatorFaults;
  /** Every request received, in order (bounded by maxRecordedRequests). */
  requests: RecordedRequest[];
  resetRequests(): void;
  /** SSE responses currently open. */
  openStreams(): number;
  /** TCP sockets currently open. */
  openConnections(): number;
  /**
   * Records a telemetry event on a session (if its telemetry capture is on) and returns its seq; for tests of
   * stream consumers. `event` needs at least `type`; `ts` and `source` are filled in when absent.
   */
  emitTelemetry(sessionId: string, event: Json): number | undefined;
  /** Closes streams and sockets; resolves when the server is closed. */
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const resolved: ResolvedOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    apiKey: options.apiKey,
    keepaliveMs: options.keepaliveMs ?? 15_000,
    eventIntervalMs: options.eventIntervalMs ?? 100,
    enforceBrowserTimeouts: options.enforceBrowserTimeouts ?? true,
  };
  const sim: SimContext = {
    options: resolved,
    state: new SimState(),
    ids: new Ids(options.seed),
    timers: new Timers(),
    faults: new FaultController(options.faults),
    streams: new Set(),
    baseUrl: '',
  };
  const now = nowIso();
  const project = {
    id: sim.ids.id('proj_'),
    name: 'default',
    status: 'active' as const,
    createdAt: now,
    updatedAt: now,
    limits: {},
  };
  sim.state.projects.set(project.id, project);

  const http = createHttpServer(sim, ROUTES, options.maxRecordedRequests ?? 100_000);
  const port = await http.listen(resolved.host, resolved.port);
  const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  sim.baseUrl = `http://${host}:${port}`;
  startIdleSweeper(sim);

  let closing: Promise<void> | undefined;
  return {
    url: sim.baseUrl,
    setFaults: (faults) => sim.faults.set(faults),
    getFaults: () => sim.faults.snapshot(),
    requests: http.requests,
    resetRequests: () => {
      http.requests.length = 0;
    },
    openStreams: () => sim.streams.size,
    openConnections: () => http.sockets.size,
    emitTelemetry: (sessionId, event) => {
      const b = sim.state.browsers.get(sessionId);
      if (!b || !telemetryEnabled(b, 'monitor')) return undefined;
      return b.telemetryLog.push({ ts: Date.now() * 1000, source: { kind: 'kernel_api' }, ...event }).id;
    },
    close: () => {
      closing ??= (async () => {
        sim.timers.clearAll();
        for (const s of [...sim.streams]) s.close();
        await http.close();
      })();
      return closing;
    },
  };
}
