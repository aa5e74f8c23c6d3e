/**
 * Shared pieces of the reliability suite: the secrets every test watches for, a recorder of everything a test saw
 * (results, logs, child stderr and stdout) that fails when a secret appears in any of it, and small checks on what
 * a "clear" error looks like.
 */
import { expect } from 'vitest';
import type { RecordedRequest } from '../../simulator/index.js';

/** Distinct, recognisable secrets per test file (long enough for the redactor, shaped like real ones). */
export function secretsFor(file: string) {
  const tag = file.replace(/\W/g, '').slice(0, 12);
  return {
    apiKey: `sk_live_rel_${tag}_K3rn3lS3cr3t0123456789`,
    httpToken: `mcp_tok_rel_${tag}_H77pT0k3n0123456789abcdef`,
    proxyPassword: `pw_rel_${tag}_Pr0xyPa55w0rd!9876`,
    credentialValue: `cred_rel_${tag}_V4lu3S3cr3t#4242`,
  };
}

/**
 * A secret as it shows in text: as is, and JSON-escaped once and twice (a quote or backslash in it escaped: quoted by
 * the API with JSON, or inside a JSON text that holds a string that holds it), which a reader unescapes at a glance.
 */
export function jsonForms(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, once, JSON.stringify(once).slice(1, -1)])];
}

/** Everything a test file saw leave the server, checked for secrets at the end (and on demand). */
export class Seen {
  readonly #texts: { label: string; text: string }[] = [];
  constructor(readonly secrets: readonly string[]) {}

  add(label: string, value: unknown) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (text) this.#texts.push({ label, text });
  }

  /** How many recorded texts match. */
  matching(re: RegExp): number {
    return this.#texts.filter((t) => re.test(t.text)).length;
  }

  get size(): number {
    return this.#texts.length;
  }

  /** The first (label, secret) found, as is or JSON-escaped, or undefined. */
  leak(): { label: string; secret: string; excerpt: string } | undefined {
    for (const { label, text } of this.#texts) {
      for (const secret of this.secrets) {
        for (const form of jsonForms(secret)) {
          const at = text.indexOf(form);
          if (at >= 0) return { label, secret, excerpt: text.slice(Math.max(0, at - 80), at + form.length + 40) };
        }
      }
    }
    return undefined;
  }

  assertClean() {
    const found = this.leak();
    expect(found, found ? `secret leaked in ${found.label}: …${found.excerpt}…` : '').toBeUndefined();
  }
}

export interface ResultLike {
  content?: { type: string; text?: string }[];
  isError?: boolean;
  structuredContent?: unknown;
}

export function textOf(r: ResultLike): string {
  return (r.content ?? [])
    .filter((c) => c.type === 'text')
    .map((c) => c.text ?? '')
    .join('\n');
}

/** A result is well formed: a non-empty content array of typed blocks. */
export function expectWellFormed(r: ResultLike, label: string) {
  expect(Array.isArray(r.content), `${label}: content is an array`).toBe(true);
  expect(r.content?.length, `${label}: content is not empty`).toBeGreaterThan(0);
  for (const c of r.content ?? []) expect(typeof c.type, `${label}: typed content`).toBe('string');
  if (r.isError !== undefined) expect(typeof r.isError).toBe('boolean');
}

/** An error an agent can act on: says what went wrong in words, carries no stack trace or JS internals. */
export function expectClearError(text: string, label: string) {
  expect(text.trim().length, `${label}: error has a message`).toBeGreaterThan(10);
  expect(text.length, `${label}: error is short`).toBeLessThan(5000);
  expect(text, `${label}: no stack trace`).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(text, `${label}: no JS internals`).not.toMatch(
    /\[object Object\]|Cannot read propert|is not a function|undefined is not|TypeError|ReferenceError/,
  );
}

/** The validation errors the server gives for bad arguments (the SDK's, or a tool's own argument checks). */
export const VALIDATION_ERROR = /^(Input validation error: Invalid arguments for tool \w+: |Invalid argument)/;

/**
 * The requests a call sent, from the API's side: every request since `since` except event-stream connections.
 * Stream connections are opened and resumed by the stream hub in the background (a short read can return before
 * its connection reaches the API, and a dropped stream reconnects later), so they cannot be pinned on one call;
 * the fuzz checks the hub itself for those.
 */
export function callRequests(requests: readonly RecordedRequest[], since: number): RecordedRequest[] {
  return requests.slice(since).filter((r) => !String(r.headers.accept ?? '').includes('text/event-stream'));
}

/** Polls `fn` until it returns true or `ms` pass; returns the last answer (the caller asserts on it). */
export async function eventually(fn: () => boolean, ms = 10_000, every = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Collects unhandled rejections and uncaught exceptions in this test process. */
export function watchProcess() {
  const problems: string[] = [];
  const onRejection = (reason: unknown) =>
    problems.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (err: Error) => problems.push(`uncaughtException: ${err.stack ?? err.message}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}
