/** The per-instance simulator context handed to every handler. */

import type { OpenStream } from './event-log.js';
import type { FaultController } from './faults.js';
import type { SimState } from './state.js';
import type { Ids, Timers } from './util.js';

export interface ResolvedOptions {
  host: string;
  port: number;
  apiKey?: string;
  keepaliveMs: number;
  eventIntervalMs: number;
  /** Soft-delete browsers after `timeout_seconds` without API activity, like Kernel does. */
  enforceBrowserTimeouts: boolean;
}

export interface SimContext {
  readonly options: ResolvedOptions;
  readonly state: SimState;
  readonly ids: Ids;
  readonly timers: Timers;
  readonly faults: FaultController;
  /** SSE responses currently open. */
  readonly streams: Set<OpenStream>;
  /** `http://host:port` once listening. */
  baseUrl: string;
}
