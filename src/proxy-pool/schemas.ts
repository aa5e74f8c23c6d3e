/**
 * Tool input schemas of the proxy-pool sessions service, and their translation to the wire.
 *
 * Tool arguments are snake_case like every other kernel-mcp tool (`workspace_id`); the service's JSON is camelCase
 * (`workspaceId`), so `wireSession`/`*Body` translate. IDs are standard base64 of exactly 16 bytes. A session is
 * either a rotation session (a sticky-session `token` and nothing else) or a static endpoint (`scheme`, `host`,
 * `port`, `username`, `password`, optionally with a `token`); that rule is a refinement, so the published JSON
 * Schema stays a plain object schema with no top-level anyOf/oneOf.
 */
import { z } from 'zod';

/** The canonical standard-base64 form of 16 bytes: 21 free characters, one whose low 4 bits are zero, `==`. */
export const ID_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;
export const ID_EXAMPLE = 'AY+MHnorfD2eTxorPE1ebw==';
export const MAX_BULK_SESSIONS = 1000;
export const ENDPOINT_FIELDS = ['scheme', 'host', 'port', 'username', 'password'] as const;

const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why `value` is not a 16-byte standard-base64 id, as the end of a sentence starting with the field name. */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string (standard base64 of exactly 16 bytes, like ${ID_EXAMPLE})`;
  if (ID_PATTERN.test(value)) return undefined;
  const shape = `standard base64 of exactly 16 bytes: 24 characters ending in ==, like ${ID_EXAMPLE}`;
  if (value === '') return `is empty; it must be ${shape}`;
  if (/[-_]/.test(value) && /^[A-Za-z0-9_-]*={0,2}$/.test(value)) {
    const std = value.replace(/-/g, '+').replace(/_/g, '/');
    const fixed = std.length % 4 ? std + '='.repeat(4 - (std.length % 4)) : std;
    const hint = ID_PATTERN.test(fixed) ? ` (did you mean ${fixed}?)` : '';
    return `uses URL-safe base64 (- or _); it must be ${shape}${hint}`;
  }
  if (!BASE64_CHARS.test(value) || /=[^=]/.test(value)) {
    return `is not base64 (only A-Z, a-z, 0-9, + and / then = padding); it must be ${shape}`;
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 16) return `decodes to ${bytes.length} bytes; it must be ${shape}`;
  const canonical = bytes.toString('base64');
  return `is not canonical base64 (padding missing or stray low bits); it must be ${shape} (did you mean ${canonical}?)`;
}

function idField(field: string, what: string) {
  return z
    .string()
    .regex(ID_PATTERN, { error: (iss) => `${field} ${idProblem(iss.input)}` })
    .describe(`${what} (base64, 16 bytes).`);
}

export const workspaceId = () => idField('workspace_id', 'Workspace ID');
export const poolId = () => idField('pool_id', 'Proxy pool ID');
export const providerId = () => idField('provider_id', 'Proxy provider ID (the pool provider the session comes from)');
export const sessionId = () => idField('id', 'Proxy session ID (the `id` a create or bulk create returned)');

const HOST_CHARS = /^[^\s/@?#]+$/;

/** Fields of one session: a rotation session's token, or a static endpoint. */
function sessionFields(tokenRequired: boolean) {
  const token = z
    .string()
    .min(1, 'token must not be empty')
    .max(256, 'token must be at most 256 characters')
    .describe(
      tokenRequired
        ? 'Sticky-session token. Rotation sessions carry only this; static sessions may carry one too. Bulk creation is idempotent on pool + token, so every session in a bulk request needs one.'
        : 'Sticky-session token: all a rotation session carries. Optional for a static session. Unique among the live sessions of a pool.',
    );
  return {
    token: tokenRequired ? token : token.optional(),
    scheme: z
      .string()
      .regex(/^[a-z][a-z0-9+.-]{0,15}$/, 'scheme must be a lowercase URL scheme without "://", like http')
      .describe('Static endpoint: the proxy URL scheme, without "://" (e.g. http, https, socks5).')
      .optional(),
    host: z
      .string()
      .min(1, 'host must not be empty')
      .max(253, 'host must be at most 253 characters')
      .regex(HOST_CHARS, 'host must be a bare host name or IP address: no scheme, path, credentials or spaces')
      .describe('Static endpoint: host name or IP address, without scheme or port.')
      .optional(),
    port: z
      .int('port must be a whole number')
      .min(1, 'port must be from 1 to 65535')
      .max(65535, 'port must be from 1 to 65535')
      .describe('Static endpoint: TCP port, 1-65535.')
      .optional(),
    username: z
      .string()
      .min(1, 'username must not be empty')
      .max(256, 'username must be at most 256 characters')
      .describe('Static endpoint: the proxy username.')
      .optional(),
    password: z
      .string()
      .min(1, 'password must not be empty')
      .max(1024, 'password must be at most 1024 characters')
      .describe('Static endpoint: the proxy password. Write-only: sent to the service, never returned or logged.')
      .optional(),
  };
}

export interface SessionArgs {
  token?: string | undefined;
  scheme?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * The kind rule: no endpoint field means a rotation session, which needs `token`; any endpoint field means a static
 * session, which needs all five (`token` optional). Runs even when fields failed, so it checks presence only.
 */
function checkKind(value: SessionArgs, ctx: z.RefinementCtx, where: (string | number)[], label: string) {
  const given = ENDPOINT_FIELDS.filter((f) => value[f] !== undefined);
  if (given.length === 0) {
    if (value.token === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...where, 'token'],
        message: `${label}needs token (a rotation session) or scheme, host, port, username and password (a static session)`,
      });
    }
    return;
  }
  const missing = ENDPOINT_FIELDS.filter((f) => value[f] === undefined);
  if (missing.length === 0) return;
  ctx.addIssue({
    code: 'custom',
    path: [...where, missing[0]!],
    message: `${label}is a static session (it has ${given.join(', ')}), so it also needs ${list(missing)}: a static session needs scheme, host, port, username and password; a rotation session has only a token`,
  });
}

const list = (items: readonly string[]) =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;

const snakeKeys = (keys: string[]) =>
  `Unknown argument(s) ${keys.join(', ')}: arguments are snake_case (workspace_id, pool_id, provider_id, token, scheme, host, port, username, password).`;
const objectError = {
  error: (iss: { code?: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys' ? snakeKeys(iss.keys ?? []) : undefined,
};

export function createSessionInput() {
  return z
    .strictObject(
      { workspace_id: workspaceId(), pool_id: poolId(), provider_id: providerId(), ...sessionFields(false) },
      objectError,
    )
    .superRefine((value, ctx) => checkKind(value, ctx, [], 'The session '));
}

export function bulkCreateSessionsInput() {
  const item = z
    .strictObject(sessionFields(true), objectError)
    .describe(
      'One session: a rotation session is {token}; a static session is {token, scheme, host, port, username, password}.',
    );
  return z
    .strictObject(
      {
        workspace_id: workspaceId(),
        pool_id: poolId(),
        provider_id: providerId(),
        sessions: z
          .array(item)
          .min(1, 'sessions must hold at least one session')
          .max(MAX_BULK_SESSIONS, `sessions must hold at most ${MAX_BULK_SESSIONS} sessions; split the request`)
          .describe(
            `The sessions to add (1-${MAX_BULK_SESSIONS}), all from provider_id, created in one transaction: all or none.`,
          ),
      },
      objectError,
    )
    .superRefine((value, ctx) => {
      if (!Array.isArray(value.sessions)) return;
      const seen = new Map<string, number>();
      value.sessions.forEach((s, i) => {
        if (!s || typeof s !== 'object') return;
        checkKind(s, ctx, ['sessions', i], `sessions[${i}] `);
        if (typeof s.token !== 'string') return;
        const first = seen.get(s.token);
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['sessions', i, 'token'],
            message: `sessions[${i}].token repeats the token of sessions[${first}]; tokens must be unique within a request`,
          });
        } else seen.set(s.token, i);
      });
    });
}

export function deleteSessionInput() {
  return z.strictObject({ workspace_id: workspaceId(), id: sessionId() }, objectError);
}

export type CreateSessionArgs = z.infer<ReturnType<typeof createSessionInput>>;
export type BulkCreateSessionsArgs = z.infer<ReturnType<typeof bulkCreateSessionsInput>>;
export type DeleteSessionArgs = z.infer<ReturnType<typeof deleteSessionInput>>;

/** One session's fields in wire form (camelCase names are the same words here); absent fields are left out. */
export function wireSession(s: SessionArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['token', ...ENDPOINT_FIELDS] as const) if (s[key] !== undefined) out[key] = s[key];
  return out;
}

export function createSessionBody(a: CreateSessionArgs): Record<string, unknown> {
  return { workspaceId: a.workspace_id, poolId: a.pool_id, providerId: a.provider_id, ...wireSession(a) };
}

export function bulkCreateSessionsBody(a: BulkCreateSessionsArgs): Record<string, unknown> {
  return {
    workspaceId: a.workspace_id,
    poolId: a.pool_id,
    providerId: a.provider_id,
    sessions: a.sessions.map(wireSession),
  };
}

export function deleteSessionBody(a: DeleteSessionArgs): Record<string, unknown> {
  return { workspaceId: a.workspace_id, id: a.id };
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A session as the service answered it, in the tools' snake_case, with any `password` dropped at any depth (the
 * service never returns it; this makes sure nothing that echoes a request could either).
 */
export function sessionView(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sessionView);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.toLowerCase() === 'password') continue;
    out[snake(k)] = sessionView(v);
  }
  return out;
}
