/**
 * Deterministic fault injection: counters, never randomness. A rule matches a request when its optional
 * `method` equals the request method (case-insensitive) and its optional `pathPrefix` prefixes the path.
 * Each matching request consumes one unit of `count`. Rules are checked in this order and a request consumes at
 * most one of them: hangNext, rateLimitNext, failNext, resetNext. `latencyMs` applies to every answer.
 */

export interface FaultRule {
  method?: string;
  pathPrefix?: string;
  count: number;
}

export interface SimulatorFaults {
  /** Added to every answer (before the first byte). */
  latencyMs?: number;
  /** Answer the next `count` matching requests with `status` (default 503) and an Error body. */
  failNext?: FaultRule & { status?: number };
  /** Answer the next `count` matching requests with 429, `Retry-After: retryAfterSeconds` (default 1). */
  rateLimitNext?: FaultRule & { retryAfterSeconds?: number };
  /** Process the next `count` matching requests, then destroy the socket half-way through the answer. */
  resetNext?: FaultRule;
  /** Never answer the next `count` matching requests (the socket stays open until the client gives up). */
  hangNext?: FaultRule;
  /** Destroy every SSE connection after N events were sent on it (the resource itself is not ended). */
  cutStreamsAfter?: number;
}

export interface FaultDecision {
  latencyMs: number;
  hang: boolean;
  rateLimit?: { retryAfterSeconds: number };
  fail?: { status: number };
  reset: boolean;
}

function matches(rule: FaultRule | undefined, method: string, path: string): rule is FaultRule {
  if (!rule || rule.count <= 0) return false;
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.pathPrefix && !path.startsWith(rule.pathPrefix)) return false;
  return true;
}

export class FaultController {
  current: SimulatorFaults = {};

  constructor(initial?: SimulatorFaults) {
    this.set(initial ?? {});
  }

  /** Replaces the current faults (copies them, so the caller's object is not mutated by the counters). */
  set(faults: SimulatorFaults): void {
    const copy: SimulatorFaults = { ...faults };
    if (faults.failNext) copy.failNext = { ...faults.failNext };
    if (faults.rateLimitNext) copy.rateLimitNext = { ...faults.rateLimitNext };
    if (faults.resetNext) copy.resetNext = { ...faults.resetNext };
    if (faults.hangNext) copy.hangNext = { ...faults.hangNext };
    this.current = copy;
  }

  /** Snapshot of the faults with their remaining counts. */
  snapshot(): SimulatorFaults {
    const f = this.current;
    return JSON.parse(JSON.stringify(f)) as SimulatorFaults;
  }

  decide(method: string, path: string): FaultDecision {
    const f = this.current;
    const decision: FaultDecision = { latencyMs: Math.max(0, f.latencyMs ?? 0), hang: false, reset: false };
    if (matches(f.hangNext, method, path)) {
      f.hangNext.count--;
      decision.hang = true;
    } else if (matches(f.rateLimitNext, method, path)) {
      f.rateLimitNext.count--;
      decision.rateLimit = { retryAfterSeconds: Math.max(0, Math.round(f.rateLimitNext.retryAfterSeconds ?? 1)) };
    } else if (matches(f.failNext, method, path)) {
      f.failNext.count--;
      decision.fail = { status: f.failNext.status ?? 503 };
    } else if (matches(f.resetNext, method, path)) {
      f.resetNext.count--;
      decision.reset = true;
    }
    return decision;
  }
}
