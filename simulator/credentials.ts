/** Credentials (values never returned; real RFC 6238 TOTP codes) and external credential providers. */
import { createHmac } from 'node:crypto';
import type { SimContext } from './context.js';
import { badRequest, conflict, forbidden, notFound } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, deleteFrom, json, page, param } from './http.js';
import { byId, byIdOrName, nameTaken } from './state.js';
import type { CredentialProviderRecord, CredentialRecord, Json } from './types.js';
import { compact, nowIso } from './util.js';

// ---- TOTP -------------------------------------------------------------------------------------------------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Normalises a base32 TOTP secret (spaces/dashes removed, upper case, no padding); throws 400 if invalid. */
export function normaliseTotpSecret(secret: string): string {
  const s = secret.replace(/[\s-]/g, '').toUpperCase().replace(/=+$/, '');
  if (s.length === 0 || [...s].some((c) => !BASE32.includes(c))) {
    // The value is quoted, as an API could: a server passing it on must not show it.
    throw badRequest(`totp_secret must be a base32-encoded secret (A-Z, 2-7), not ${JSON.stringify(secret)}`);
  }
  return s;
}

function base32Decode(s: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of s) {
    value = (value << 5) | BASE32.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP (HMAC-SHA1, 30 s step, 6 digits). */
export function totp(secret: string, atMs = Date.now()): { code: string; expiresAt: string } {
  const step = Math.floor(atMs / 30_000);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return { code: String(binary % 1_000_000).padStart(6, '0'), expiresAt: new Date((step + 1) * 30_000).toISOString() };
}

// ---- Credentials ------------------------------------------------------------------------------------------

function credentialView(c: CredentialRecord, withCode = false): Json {
  const code = withCode && c.totpSecret ? totp(c.totpSecret) : undefined;
  return compact({
    id: c.id,
    name: c.name,
    domain: c.domain,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    has_values: Object.keys(c.values).length > 0,
    has_totp_secret: c.totpSecret !== undefined,
    sso_provider: c.ssoProvider,
    totp_code: code?.code,
    totp_code_expires_at: code?.expiresAt,
  });
}

interface CredentialBody {
  name?: string;
  domain?: string;
  values?: Record<string, string>;
  totp_secret?: string;
  sso_provider?: string | null;
}

/** Creates or updates a credential (used by managed auth's save_credentials as well). */
export function upsertCredential(
  sim: SimContext,
  name: string,
  domain: string,
  values: Record<string, string>,
): CredentialRecord {
  const existing = [...sim.state.credentials.values()].find((c) => c.name === name);
  const now = nowIso();
  if (existing) {
    Object.assign(existing.values, values);
    existing.updatedAt = now;
    return existing;
  }
  const c: CredentialRecord = {
    id: sim.ids.id('cred_'),
    name,
    domain,
    values: { ...values },
    createdAt: now,
    updatedAt: now,
  };
  sim.state.credentials.set(c.id, c);
  return c;
}

function createCredential(ctx: Ctx): Reply {
  const body = bodyOf<Required<Pick<CredentialBody, 'name' | 'domain' | 'values'>> & CredentialBody>(ctx);
  if (nameTaken(ctx.sim.state.credentials, body.name))
    throw conflict(`a credential named '${body.name}' already exists`);
  const totpSecret = body.totp_secret !== undefined ? normaliseTotpSecret(body.totp_secret) : undefined;
  const c = upsertCredential(ctx.sim, body.name, body.domain, body.values);
  c.totpSecret = totpSecret;
  c.ssoProvider = body.sso_provider ?? undefined;
  return json(201, credentialView(c, totpSecret !== undefined));
}

const lookupCredential = (ctx: Ctx): CredentialRecord =>
  byIdOrName(ctx.sim.state.credentials, param(ctx, 'id_or_name'), 'credential');

function patchCredential(ctx: Ctx): Reply {
  const c = lookupCredential(ctx);
  const body = bodyOf<CredentialBody>(ctx);
  if (body.name !== undefined && nameTaken(ctx.sim.state.credentials, body.name, c.id)) {
    throw conflict(`a credential named '${body.name}' already exists`);
  }
  let newSecret = false;
  if (body.totp_secret !== undefined) {
    c.totpSecret = body.totp_secret === '' ? undefined : normaliseTotpSecret(body.totp_secret);
    newSecret = c.totpSecret !== undefined;
  }
  if (body.name !== undefined) c.name = body.name;
  if (body.values) Object.assign(c.values, body.values);
  if (body.sso_provider !== undefined) c.ssoProvider = body.sso_provider || undefined;
  c.updatedAt = nowIso();
  return json(200, credentialView(c, newSecret));
}

// ---- Credential providers ---------------------------------------------------------------------------------

function providerView(p: CredentialProviderRecord): Json {
  return {
    id: p.id,
    provider_type: p.providerType,
    name: p.name,
    enabled: p.enabled,
    priority: p.priority,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

/** Tokens that look like 1Password service-account tokens (`ops_...`) are accepted; others are rejected. */
const tokenValid = (p: CredentialProviderRecord): boolean => p.token.startsWith('ops_');

/**
 * Why a provider's token is refused. The token is quoted, as a provider check could: a server passing it on must not
 * show it.
 */
const tokenRefusal = (p: CredentialProviderRecord): string =>
  `Invalid service account token ${JSON.stringify(p.token)}: 1Password service account tokens start with ops_`;

const VAULTS = [
  { id: 'vlt_private000000000000001', name: 'Private' },
  { id: 'vlt_shared0000000000000002', name: 'Shared Logins' },
];

const lookupProvider = (ctx: Ctx): CredentialProviderRecord =>
  byId(ctx.sim.state.credentialProviders, param(ctx, 'id'), 'credential provider');

function providerItems(ctx: Ctx): Reply {
  const p = lookupProvider(ctx);
  if (!p.enabled) throw forbidden(`credential provider ${p.name} is disabled`);
  if (!tokenValid(p)) throw forbidden(`credential provider ${p.name}: ${tokenRefusal(p)}`);
  const vault = VAULTS[1] ?? { id: '', name: '' };
  const domains = new Set(['netflix.com', 'github.com']);
  for (const c of ctx.sim.state.credentials.values()) domains.add(c.domain);
  const items = [...domains].map((domain, i) => {
    const title = `${domain} login`;
    return {
      id: `item${String(i + 1).padStart(4, '0')}`,
      title,
      vault_id: vault.id,
      vault_name: vault.name,
      path: `${vault.name}/${title}`,
      urls: [`https://${domain}`],
    };
  });
  return json(200, { items });
}

interface ProviderBody {
  provider_type?: 'onepassword';
  name?: string;
  token?: string;
  cache_ttl_seconds?: number;
  enabled?: boolean;
  priority?: number;
}

export const CREDENTIAL_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/credentials',
    operationId: 'postCredentials',
    handler: createCredential,
  },
  {
    method: 'GET',
    path: '/credentials',
    operationId: 'getCredentials',
    handler: (ctx) => {
      const domain = ctx.query['domain'];
      const items = [...ctx.sim.state.credentials.values()].filter((c) => domain === undefined || c.domain === domain);
      return page(ctx, items, false, (c) => credentialView(c));
    },
  },
  {
    method: 'GET',
    path: '/credentials/{id_or_name}',
    operationId: 'getCredentialByIdOrName',
    handler: (ctx) => json(200, credentialView(lookupCredential(ctx))),
  },
  {
    method: 'PATCH',
    path: '/credentials/{id_or_name}',
    operationId: 'patchCredentialByIdOrName',
    handler: patchCredential,
  },
  {
    method: 'DELETE',
    path: '/credentials/{id_or_name}',
    operationId: 'deleteCredentialByIdOrName',
    handler: deleteFrom((sim) => sim.state.credentials, lookupCredential),
  },
  {
    method: 'GET',
    path: '/credentials/{id_or_name}/totp-code',
    operationId: 'getCredentialTotpCodeByIdOrName',
    handler: (ctx) => {
      const c = lookupCredential(ctx);
      if (!c.totpSecret) throw notFound('TOTP secret of credential', c.name);
      const { code, expiresAt } = totp(c.totpSecret);
      return json(200, { code, expires_at: expiresAt });
    },
  },
  {
    method: 'POST',
    path: '/org/credential_providers',
    operationId: 'postCredentialProviders',
    handler: (ctx) => {
      const body = bodyOf<Required<Pick<ProviderBody, 'name' | 'token'>> & ProviderBody>(ctx);
      if (nameTaken(ctx.sim.state.credentialProviders, body.name)) {
        throw conflict(`a credential provider named '${body.name}' already exists`);
      }
      const now = nowIso();
      const p: CredentialProviderRecord = {
        id: ctx.sim.ids.id('credprov_'),
        providerType: 'onepassword',
        name: body.name,
        token: body.token,
        enabled: true,
        priority: ctx.sim.state.credentialProviders.size,
        cacheTtlSeconds: body.cache_ttl_seconds ?? 300,
        createdAt: now,
        updatedAt: now,
      };
      ctx.sim.state.credentialProviders.set(p.id, p);
      return json(201, providerView(p));
    },
  },
  {
    method: 'GET',
    path: '/org/credential_providers',
    operationId: 'getCredentialProviders',
    handler: (ctx) =>
      json(
        200,
        [...ctx.sim.state.credentialProviders.values()].sort((a, b) => a.priority - b.priority).map(providerView),
      ),
  },
  {
    method: 'GET',
    path: '/org/credential_providers/{id}',
    operationId: 'getCredentialProvidersById',
    handler: (ctx) => json(200, providerView(lookupProvider(ctx))),
  },
  {
    method: 'PATCH',
    path: '/org/credential_providers/{id}',
    operationId: 'patchCredentialProvidersById',
    handler: (ctx) => {
      const p = lookupProvider(ctx);
      const body = bodyOf<ProviderBody>(ctx);
      if (body.name !== undefined && nameTaken(ctx.sim.state.credentialProviders, body.name, p.id)) {
        throw conflict(`a credential provider named '${body.name}' already exists`);
      }
      if (body.name !== undefined) p.name = body.name;
      if (body.enabled !== undefined) p.enabled = body.enabled;
      if (body.priority !== undefined) p.priority = body.priority;
      if (body.token !== undefined) p.token = body.token;
      if (body.cache_ttl_seconds !== undefined) p.cacheTtlSeconds = body.cache_ttl_seconds;
      p.updatedAt = nowIso();
      return json(200, providerView(p));
    },
  },
  {
    method: 'DELETE',
    path: '/org/credential_providers/{id}',
    operationId: 'deleteCredentialProvidersById',
    handler: deleteFrom((sim) => sim.state.credentialProviders, lookupProvider),
  },
  {
    method: 'POST',
    path: '/org/credential_providers/{id}/test',
    operationId: 'testCredentialProviderById',
    handler: (ctx) => {
      const p = lookupProvider(ctx);
      return json(
        200,
        tokenValid(p) ? { success: true, vaults: VAULTS } : { success: false, vaults: [], error: tokenRefusal(p) },
      );
    },
  },
  {
    method: 'GET',
    path: '/org/credential_providers/{id}/items',
    operationId: 'getCredentialProviderItems',
    handler: providerItems,
  },
];
