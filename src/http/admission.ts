/**
 * Passthrough admission: a key the server has not seen is admitted only after it authenticated once against the
 * Kernel API (a one-item list of browsers). Verdicts are cached briefly in a bounded map, checks of one key are
 * shared, and only a few checks run at once, so a flood of made-up keys neither creates tenants nor floods the API.
 */
import type { KernelClient } from '../kernel/client.js';
import { KernelError } from '../kernel/errors.js';
import type { Logger } from '../log.js';

export type Verdict = { ok: true } | { ok: false; status: 401 | 503; message: string };

export interface AdmissionOptions {
  /** How long a verdict (accepted or refused) is remembered. */
  ttlMs: number;
  /** Most verdicts remembered (oldest forgotten first). */
  maxVerdicts: number;
  /** Most checks running at once; more new keys meanwhile are told to retry. */
  maxPending: number;
  logger: Logger;
}

export const ADMISSION_DEFAULTS = { ttlMs: 60_000, maxVerdicts: 10_000, maxPending: 16 };

/** Asks the API whether a client (made with the key) is accepted. */
export async function checkKey(client: KernelClient): Promise<Verdict> {
  try {
    await client.request({ method: 'GET', path: '/browsers', query: { limit: 1 }, retry: false });
    return { ok: true };
  } catch (err) {
    if (err instanceof KernelError && (err.status === 401 || err.status === 403)) {
      return {
        ok: false,
        status: 401,
        message: `Unauthorized: the Kernel API did not accept this key (${err.status}). Send your own Kernel API key as the bearer token.`,
      };
    }
    return {
      ok: false,
      status: 503,
      message: 'Service Unavailable: could not verify the key with the Kernel API; retry shortly.',
    };
  }
}

export class KeyAdmission {
  readonly #verdicts = new Map<string, { verdict: Verdict; until: number }>();
  readonly #pending = new Map<string, Promise<Verdict>>();

  constructor(readonly options: AdmissionOptions) {}

  /** The verdict for a key (by its hash), checking it with `check` when none is remembered. */
  async admit(keyHash: string, check: () => Promise<Verdict>): Promise<Verdict> {
    const now = Date.now();
    const known = this.#verdicts.get(keyHash);
    if (known && known.until > now) return known.verdict;
    if (known) this.#verdicts.delete(keyHash);
    const running = this.#pending.get(keyHash);
    if (running) return running;
    if (this.#pending.size >= this.options.maxPending) {
      return { ok: false, status: 503, message: 'Server busy: too many new keys being verified; retry shortly.' };
    }
    const p = check()
      .then((verdict) => {
        // "Could not check" is not remembered: the next request checks again.
        if (verdict.ok || verdict.status === 401) this.#remember(keyHash, verdict);
        if (!verdict.ok) this.options.logger.debug('passthrough key refused', { status: verdict.status });
        return verdict;
      })
      .finally(() => this.#pending.delete(keyHash));
    this.#pending.set(keyHash, p);
    return p;
  }

  #remember(keyHash: string, verdict: Verdict) {
    this.#verdicts.set(keyHash, { verdict, until: Date.now() + this.options.ttlMs });
    while (this.#verdicts.size > this.options.maxVerdicts) {
      this.#verdicts.delete(this.#verdicts.keys().next().value as string);
    }
  }

  get size(): number {
    return this.#verdicts.size;
  }
}
