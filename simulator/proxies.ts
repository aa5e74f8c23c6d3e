/** Proxies: create (config validated per type), list, get, soft delete, health check. */
import { badRequest, notFound, unprocessable } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, empty, json, param } from './http.js';
import type { Json, ProxyRecord } from './types.js';
import { compact, nowIso } from './util.js';
import { assertValidComponent } from './validate.js';

/**
 * The spec's schema for each proxy type's `config`. The spec's own `oneOf` cannot tell them apart and its
 * discriminator maps `custom` to the answer's CustomProxyConfig (no password), so the request picks by `type`.
 */
export const CONFIG_SCHEMAS = {
  datacenter: 'DatacenterProxyConfig',
  isp: 'IspProxyConfig',
  residential: 'ResidentialProxyConfig',
  mobile: 'MobileProxyConfig',
  custom: 'CreateCustomProxyConfig',
} as const;

interface ProxyBody {
  name?: string;
  type: keyof typeof CONFIG_SCHEMAS;
  protocol?: 'http' | 'https';
  bypass_hosts?: string[];
  config?: Json;
}

export function proxyView(p: ProxyRecord): Json {
  return compact({
    id: p.id,
    name: p.name,
    type: p.type,
    protocol: p.protocol,
    bypass_hosts: p.bypassHosts,
    status: p.status,
    last_checked: p.lastChecked,
    ip_address: p.ipAddress,
    config: p.config,
  });
}

function normaliseConfig(type: ProxyBody['type'], config: Json | undefined): Json | undefined {
  if (config === undefined) return type === 'datacenter' || type === 'isp' ? { country: 'US' } : undefined;
  assertValidComponent(CONFIG_SCHEMAS[type], config, 'config');
  if (
    (type === 'residential' || type === 'mobile') &&
    config['city'] !== undefined &&
    config['country'] === undefined
  ) {
    throw badRequest('config.country is required when config.city is provided');
  }
  if (type === 'custom') {
    const { password, ...rest } = config;
    const port = rest['port'] as number;
    if (port < 1 || port > 65535) throw badRequest('config.port must be between 1 and 65535');
    return { ...rest, has_password: typeof password === 'string' && password !== '' };
  }
  return { ...config };
}

function create(ctx: Ctx): Reply {
  const body = bodyOf<ProxyBody>(ctx);
  if (body.type === 'custom' && body.config === undefined) throw badRequest('config is required for custom proxies');
  const p: ProxyRecord = {
    id: ctx.sim.ids.id(),
    name: body.name,
    type: body.type,
    protocol: body.protocol ?? 'https',
    bypassHosts: body.bypass_hosts,
    config: normaliseConfig(body.type, body.config),
    ...(typeof body.config?.['password'] === 'string' ? { password: body.config['password'] } : {}),
    status: 'available',
    ipAddress: `203.0.113.${ctx.sim.ids.int(2, 254)}`,
    deleted: false,
  };
  ctx.sim.state.proxies.set(p.id, p);
  return json(201, proxyView(p));
}

function lookup(ctx: Ctx): ProxyRecord {
  const id = param(ctx, 'id');
  const p = ctx.sim.state.proxies.get(id);
  if (!p || p.deleted) throw notFound('proxy', id);
  return p;
}

/** ` http://user:password@host:port` for a custom proxy, else nothing. */
function proxyUrl(p: ProxyRecord): string {
  const c = p.config;
  if (p.type !== 'custom' || !c) return '';
  const user = typeof c['username'] === 'string' ? `${c['username']}:${p.password ?? ''}@` : '';
  return ` ${p.protocol === 'https' ? 'https' : 'http'}://${user}${String(c['host'])}:${String(c['port'])}`;
}

/** Custom proxies on `*.invalid` hosts are unreachable; checking a `*.invalid` target URL fails with 422. */
function check(ctx: Ctx): Reply {
  const p = lookup(ctx);
  const target = bodyOf<{ url?: string }>(ctx).url;
  if (target !== undefined) {
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      throw badRequest(`url: '${target}' is not a valid URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest('url must use http or https');
    // The failure names the proxy it went through as a URL with its credentials, as a real checker could: the
    // password comes back to the server, which must not show it (test/reliability/secrets.test.ts).
    if (u.hostname.endsWith('.invalid')) throw unprocessable(`proxy${proxyUrl(p)} could not reach ${u.hostname}`);
    return json(200, proxyView({ ...p, lastChecked: nowIso() }));
  }
  const host = p.config?.['host'];
  p.status = typeof host === 'string' && host.endsWith('.invalid') ? 'unavailable' : 'available';
  p.lastChecked = nowIso();
  return json(200, proxyView(p));
}

export const PROXY_ROUTES: Route[] = [
  { method: 'POST', path: '/proxies', operationId: 'postProxies', handler: create },
  {
    method: 'GET',
    path: '/proxies',
    operationId: 'getProxies',
    handler: (ctx) => json(200, [...ctx.sim.state.proxies.values()].filter((p) => !p.deleted).map(proxyView)),
  },
  {
    method: 'GET',
    path: '/proxies/{id}',
    operationId: 'getProxiesById',
    handler: (ctx) => json(200, proxyView(lookup(ctx))),
  },
  {
    method: 'DELETE',
    path: '/proxies/{id}',
    operationId: 'deleteProxiesById',
    handler: (ctx) => {
      lookup(ctx).deleted = true;
      return empty(204);
    },
  },
  {
    method: 'POST',
    path: '/proxies/{id}/check',
    operationId: 'postProxiesByIdCheck',
    handler: check,
  },
];
