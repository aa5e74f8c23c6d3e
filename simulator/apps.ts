/**
 * Deployments, apps and invocations.
 *
 * A deployment (zip + entrypoint, or a GitHub source) goes queued -> in_progress -> running (or failed), one
 * step per eventIntervalMs, with deployment_state / log / app_version_summary events; its stream ends at a
 * terminal state. The app name and actions are read from the entrypoint source (`kernel.app('name')` /
 * `kernel.App("name")`, `app.action('name', ...)` / `@app.action("name")`); a missing entrypoint fails the build.
 * Running deployments make app versions, which can be invoked. Invocations go queued -> running -> succeeded;
 * a payload of `{"fail": true}` makes the action fail and `{"hold": true}` keeps it running until PATCHed (or
 * until async_timeout_seconds).
 */
import { browserView, endBrowser } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest, notFound, tooManyRequests } from './errors.js';
import { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, empty, json, matchesQuery, page, param } from './http.js';
import { mapField, type Part, partFile, partText } from './multipart.js';
import { byId } from './state.js';
import { serveSse } from './streams.js';
import type { AppAction, AppVersionRecord, DeploymentRecord, InvocationRecord, Json } from './types.js';
import { compact, isObject, nowIso, parseSince } from './util.js';
import { assertValidComponent } from './validate.js';
import { readZip, ZipError } from './zip.js';

const REGION = 'aws.us-east-1a';

// ---- Deployments ------------------------------------------------------------------------------------------

export function deploymentView(d: DeploymentRecord): Json {
  return compact({
    id: d.id,
    status: d.status,
    status_reason: d.statusReason,
    region: REGION,
    entrypoint_rel_path: d.entrypoint,
    env_vars: d.envVars,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  });
}

function appVersionView(v: AppVersionRecord): Json {
  return {
    id: v.id,
    app_name: v.appName,
    version: v.version,
    region: REGION,
    deployment: v.deploymentId,
    actions: v.actions.map((a) => ({ ...a })),
    env_vars: { ...v.envVars },
  };
}

/** Reads the app name and action names out of the entrypoint's source text. */
export function inspectSource(source: string): { appName?: string; actions: AppAction[] } {
  const appName = /\b(?:app|App)\(\s*['"`]([^'"`]+)['"`]/.exec(source)?.[1];
  const actions = [...source.matchAll(/\.action\(\s*['"`]([^'"`]+)['"`]/g)].map((m) => ({ name: m[1] ?? '' }));
  const unique = [...new Map(actions.map((a) => [a.name, a])).values()];
  return { appName, actions: unique };
}

function findVersion(sim: SimContext, appName: string, version: string): AppVersionRecord | undefined {
  return [...sim.state.appVersions.values()].find((v) => v.appName === appName && v.version === version);
}

function setDeploymentStatus(d: DeploymentRecord, status: DeploymentRecord['status'], reason: string): void {
  d.status = status;
  d.statusReason = reason;
  d.updatedAt = nowIso();
  d.log.push({ event: 'deployment_state', deployment: deploymentView(d), timestamp: d.updatedAt });
}

function runDeployment(sim: SimContext, d: DeploymentRecord): void {
  const i = sim.options.eventIntervalMs;
  const log = (message: string): void => {
    d.log.push({ event: 'log', timestamp: nowIso(), message });
  };
  const step = (delay: number, fn: () => void): void => {
    sim.timers.after(delay, () => {
      if (d.status !== 'stopped') fn();
    });
  };
  step(i, () => {
    setDeploymentStatus(d, 'in_progress', 'Deployment in progress');
    log(`Uploading ${d.entrypoint} for ${d.appName}@${d.version}`);
  });
  step(2 * i, () => log('Installing dependencies'));
  step(3 * i, () => {
    if (d.failure) {
      log(`Build failed: ${d.failure}`);
      setDeploymentStatus(d, 'failed', d.failure);
      d.log.push({ event: 'error', timestamp: nowIso(), error: { code: 'build_failed', message: d.failure } });
      d.log.finish();
      return;
    }
    const existing = findVersion(sim, d.appName, d.version);
    if (existing) sim.state.appVersions.delete(existing.id);
    const v: AppVersionRecord = {
      id: sim.ids.id(),
      appName: d.appName,
      version: d.version,
      deploymentId: d.id,
      actions: d.actions,
      envVars: d.envVars,
    };
    sim.state.appVersions.set(v.id, v);
    log(`Deployed ${d.appName}@${d.version} with actions: ${d.actions.map((a) => a.name).join(', ')}`);
    setDeploymentStatus(d, 'running', 'Deployment successful');
    d.log.push({ event: 'app_version_summary', timestamp: nowIso(), ...appVersionView(v) });
    d.log.finish();
  });
}

function parseBoolField(value: string | undefined, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw badRequest(`${field} must be true or false`);
}

/**
 * An object field sent in bracket notation (`source[type]`, `source[auth][method]`: how the SDKs and kernel-mcp
 * encode nested multipart fields), as the JSON text a `source` part would carry; undefined when absent.
 */
function bracketObject(parts: Part[], name: string): string | undefined {
  const prefix = `${name}[`;
  const fields = parts.filter((p) => p.name.startsWith(prefix) && p.name.endsWith(']'));
  if (fields.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const part of fields) {
    const keys = part.name.slice(prefix.length, -1).split('][');
    let node = out;
    for (const key of keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = part.data.toString('utf8');
  }
  return JSON.stringify(out);
}

/**
 * Why fetching a GitHub source fails: a repository on a `*.invalid` host cannot be resolved. Git names the URL it
 * fetched, with the token in it, as a real build log could: a server passing the log on must not show it.
 */
function cloneFailure(url: string, token: string | undefined): string | undefined {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  if (!u?.hostname.endsWith('.invalid')) return undefined;
  const fetched = `${u.protocol}//${token ? `x-access-token:${token}@` : ''}${u.host}${u.pathname}`;
  return `git clone failed: fatal: unable to access '${fetched}': Could not resolve host: ${u.hostname}`;
}

function postDeployment(ctx: Ctx): Reply {
  const { sim } = ctx;
  const parts = ctx.body as Part[];
  const file = partFile(parts, 'file');
  const entrypoint = partText(parts, 'entrypoint_rel_path');
  const sourceText = partText(parts, 'source') ?? bracketObject(parts, 'source');
  const version = partText(parts, 'version') ?? 'latest';
  const region = partText(parts, 'region') ?? REGION;
  if (region !== REGION) throw badRequest(`region must be "${REGION}"`);
  const force = parseBoolField(partText(parts, 'force'), 'force') ?? false;
  const envVars = mapField(parts, 'env_vars') ?? {};
  const viaFile = file !== undefined || entrypoint !== undefined;
  if (viaFile === (sourceText !== undefined)) {
    throw badRequest('provide exactly one of: file + entrypoint_rel_path, source');
  }
  let appName: string | undefined;
  let actions: AppAction[] = [];
  let failure: string | undefined;
  let entry: string;
  if (viaFile) {
    if (!file) throw badRequest('file is required with entrypoint_rel_path');
    if (!entrypoint) throw badRequest('entrypoint_rel_path is required with file');
    entry = entrypoint;
    let files: ReturnType<typeof readZip>;
    try {
      files = readZip(file.data);
    } catch (e) {
      throw badRequest(`file: ${e instanceof ZipError ? e.message : 'not a zip archive'}`);
    }
    const main = files.find((f) => f.name === entrypoint.replace(/^\.?\//, ''));
    if (main) ({ appName, actions } = inspectSource(main.data.toString('utf8')));
    else failure = `entrypoint ${entrypoint} not found in the uploaded archive`;
  } else {
    let source: unknown;
    try {
      source = JSON.parse(sourceText ?? '');
    } catch {
      throw badRequest('source must be a JSON object');
    }
    assertValidComponent('DeploymentSource', source, 'source');
    const s = source as { url: string; entrypoint: string; auth?: { token?: string } };
    entry = s.entrypoint;
    failure = cloneFailure(s.url, s.auth?.token);
    appName = s.url
      .replace(/\.git$/, '')
      .split('/')
      .filter(Boolean)
      .pop();
  }
  appName ??= 'my-app';
  if (actions.length === 0) actions = [{ name: 'analyze' }];
  if (!force && !failure && findVersion(sim, appName, version)) {
    throw badRequest(`app ${appName} version ${version} is already deployed; pass force=true to overwrite it`);
  }
  const now = nowIso();
  const d: DeploymentRecord = {
    id: sim.ids.id(),
    status: 'queued',
    statusReason: 'Deployment queued',
    entrypoint: entry,
    envVars,
    createdAt: now,
    appName,
    version,
    actions,
    force,
    failure,
    log: new EventLog(10000),
  };
  d.log.push({ event: 'deployment_state', deployment: deploymentView(d), timestamp: now });
  sim.state.deployments.set(d.id, d);
  runDeployment(sim, d);
  return json(201, deploymentView(d));
}

function deleteDeployment(ctx: Ctx): Reply {
  const { sim } = ctx;
  const d = byId(sim.state.deployments, param(ctx, 'id'), 'deployment');
  if (d.status === 'stopped' || d.status === 'failed') return empty(204);
  for (const v of [...sim.state.appVersions.values()]) if (v.deploymentId === d.id) sim.state.appVersions.delete(v.id);
  setDeploymentStatus(d, 'stopped', 'Deployment stopped');
  d.log.finish();
  return empty(204);
}

// ---- Invocations ------------------------------------------------------------------------------------------

function invocationView(inv: InvocationRecord): Json {
  return compact({
    id: inv.id,
    app_name: inv.appName,
    version: inv.version,
    action_name: inv.actionName,
    payload: inv.payload,
    output: inv.output,
    started_at: inv.startedAt,
    finished_at: inv.finishedAt,
    status: inv.status,
    status_reason: inv.statusReason,
  });
}

const invokeResponse = (inv: InvocationRecord): Json =>
  compact({
    id: inv.id,
    action_name: inv.actionName,
    status: inv.status,
    status_reason: inv.statusReason,
    output: inv.output,
  });

const isTerminal = (inv: InvocationRecord): boolean => inv.status === 'succeeded' || inv.status === 'failed';

function setInvocationStatus(inv: InvocationRecord, status: InvocationRecord['status'], reason: string): void {
  inv.status = status;
  inv.statusReason = reason;
  if (isTerminal(inv)) inv.finishedAt = nowIso();
  inv.log.push({ event: 'invocation_state', invocation: invocationView(inv), timestamp: nowIso() });
  if (isTerminal(inv)) inv.log.finish();
}

function logLine(inv: InvocationRecord, message: string): void {
  inv.log.push({ event: 'log', timestamp: nowIso(), message });
}

function complete(inv: InvocationRecord, input: unknown): void {
  if (isTerminal(inv)) return;
  if (isObject(input) && input['fail'] === true) {
    logLine(inv, `Error: action ${inv.actionName} failed`);
    inv.log.push({
      event: 'error',
      timestamp: nowIso(),
      error: { code: 'action_failed', message: `action ${inv.actionName} raised an error` },
    });
    inv.output = JSON.stringify({ error: `action ${inv.actionName} raised an error` });
    setInvocationStatus(inv, 'failed', 'Invocation failed');
    return;
  }
  inv.output = JSON.stringify({ action: inv.actionName, input: input ?? null, result: 'success' });
  logLine(inv, `Action ${inv.actionName} finished`);
  setInvocationStatus(inv, 'succeeded', 'Invocation completed successfully');
}

function start(inv: InvocationRecord): void {
  setInvocationStatus(inv, 'running', 'Invocation running');
  logLine(inv, `Running action ${inv.actionName} of ${inv.appName}@${inv.version}`);
}

interface InvokeBody {
  app_name: string;
  version: string;
  action_name: string;
  payload?: string;
  async?: boolean;
  async_timeout_seconds?: number;
}

async function postInvocation(ctx: Ctx): Promise<Reply> {
  const { sim } = ctx;
  const body = bodyOf<InvokeBody>(ctx);
  const v = findVersion(sim, body.app_name, body.version);
  if (!v) throw notFound('app version', `${body.app_name}@${body.version}`);
  if (!v.actions.some((a) => a.name === body.action_name)) throw notFound('action', body.action_name);
  let input: unknown;
  if (body.payload !== undefined) {
    try {
      input = JSON.parse(body.payload);
    } catch {
      throw badRequest('payload must be a JSON-encoded string');
    }
  }
  const cap = sim.state.projects.values().next().value?.limits.max_concurrent_invocations;
  const running = [...sim.state.invocations.values()].filter((i) => !isTerminal(i)).length;
  if (cap !== undefined && running >= cap) throw tooManyRequests(`concurrent invocation limit of ${cap} reached`, 5);
  const inv: InvocationRecord = {
    id: sim.ids.id(),
    appName: v.appName,
    version: v.version,
    actionName: body.action_name,
    deploymentId: v.deploymentId,
    payload: body.payload,
    startedAt: nowIso(),
    status: 'queued',
    statusReason: 'Invocation queued for execution',
    hold: isObject(input) && input['hold'] === true,
    log: new EventLog(10000),
  };
  sim.state.invocations.set(inv.id, inv);
  inv.log.push({ event: 'invocation_state', invocation: invocationView(inv), timestamp: nowIso() });
  const i = sim.options.eventIntervalMs;
  if (!body.async) {
    start(inv);
    await sim.timers.sleep(i);
    complete(inv, input);
    return json(200, invokeResponse(inv));
  }
  sim.timers.after(i, () => {
    if (!isTerminal(inv)) start(inv);
  });
  if (inv.hold) {
    sim.timers.after((body.async_timeout_seconds ?? 900) * 1000, () => {
      if (isTerminal(inv)) return;
      logLine(inv, 'Invocation timed out');
      setInvocationStatus(inv, 'failed', `Invocation timed out after ${body.async_timeout_seconds ?? 900}s`);
    });
  } else {
    sim.timers.after(3 * i, () => complete(inv, input));
  }
  return json(202, invokeResponse(inv));
}

const lookupInvocation = (ctx: Ctx): InvocationRecord =>
  byId(ctx.sim.state.invocations, param(ctx, 'id'), 'invocation');

function patchInvocation(ctx: Ctx): Reply {
  const inv = lookupInvocation(ctx);
  const body = bodyOf<{ status: 'succeeded' | 'failed'; output?: string }>(ctx);
  if (isTerminal(inv)) throw badRequest(`invocation ${inv.id} already finished with status ${inv.status}`);
  if (body.output !== undefined) inv.output = body.output;
  logLine(inv, `Invocation marked ${body.status} through the API`);
  setInvocationStatus(inv, body.status, body.status === 'failed' ? 'Invocation cancelled' : 'Invocation completed');
  return json(200, invocationView(inv));
}

function invocationBrowsers(ctx: Ctx) {
  const inv = lookupInvocation(ctx);
  return [...ctx.sim.state.browsers.values()].filter((b) => b.invocationId === inv.id && !b.deletedAt);
}

function sinceFilter(ctx: Ctx): ((e: { data: Json }) => boolean) | undefined {
  const raw = ctx.query['since'] as string | undefined;
  if (raw === undefined) return undefined;
  const since = parseSince(raw);
  if (since === undefined) throw badRequest('since must be an RFC 3339 timestamp or a duration such as 5m');
  return (e) => e.data['event'] !== 'log' || Date.parse(String(e.data['timestamp'])) >= since;
}

export const APP_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/apps',
    operationId: 'getApps',
    handler: (ctx) => {
      const items = [...ctx.sim.state.appVersions.values()].filter(
        (v) =>
          (ctx.query['app_name'] === undefined || v.appName === ctx.query['app_name']) &&
          (ctx.query['version'] === undefined || v.version === ctx.query['version']) &&
          matchesQuery(ctx.query['query'], v.appName),
      );
      return page(ctx, items, true, appVersionView);
    },
  },
  {
    method: 'GET',
    path: '/deployments',
    operationId: 'getDeployments',
    handler: (ctx) => {
      const { app_name: appName, app_version: appVersion } = ctx.query;
      if (appVersion !== undefined && appName === undefined) throw badRequest('app_version requires app_name');
      const items = [...ctx.sim.state.deployments.values()].filter(
        (d) =>
          (appName === undefined || d.appName === appName) && (appVersion === undefined || d.version === appVersion),
      );
      return page(ctx, items, true, deploymentView);
    },
  },
  {
    method: 'POST',
    path: '/deployments',
    operationId: 'postDeployments',
    handler: postDeployment,
  },
  {
    method: 'GET',
    path: '/deployments/{id}',
    operationId: 'getDeploymentsById',
    handler: (ctx) => json(200, deploymentView(byId(ctx.sim.state.deployments, param(ctx, 'id'), 'deployment'))),
  },
  { method: 'DELETE', path: '/deployments/{id}', operationId: 'deleteDeploymentsById', handler: deleteDeployment },
  {
    method: 'GET',
    path: '/deployments/{id}/events',
    operationId: 'getDeploymentsEventsById',
    handler: (ctx) => {
      const d = byId(ctx.sim.state.deployments, param(ctx, 'id'), 'deployment');
      return serveSse(ctx, d.log, { filter: sinceFilter(ctx) });
    },
  },
  {
    method: 'POST',
    path: '/invocations',
    operationId: 'postInvocations',
    handler: postInvocation,
  },
  {
    method: 'GET',
    path: '/invocations',
    operationId: 'getInvocations',
    handler: (ctx) => {
      const f = ctx.query;
      let since: number | undefined;
      if (f['since'] !== undefined) {
        since = parseSince(f['since'] as string);
        if (since === undefined) throw badRequest('since must be an RFC 3339 timestamp or a duration such as 5m');
      }
      const items = [...ctx.sim.state.invocations.values()].filter(
        (inv) =>
          (f['app_name'] === undefined || inv.appName === f['app_name']) &&
          (f['version'] === undefined || inv.version === f['version']) &&
          (f['action_name'] === undefined || inv.actionName === f['action_name']) &&
          (f['deployment_id'] === undefined || inv.deploymentId === f['deployment_id']) &&
          (f['status'] === undefined || inv.status === f['status']) &&
          (since === undefined || Date.parse(inv.startedAt) >= since),
      );
      return page(ctx, items, true, invocationView);
    },
  },
  {
    method: 'GET',
    path: '/invocations/{id}',
    operationId: 'getInvocationsById',
    handler: (ctx) => json(200, invocationView(lookupInvocation(ctx))),
  },
  {
    method: 'PATCH',
    path: '/invocations/{id}',
    operationId: 'patchInvocationsById',
    handler: patchInvocation,
  },
  {
    method: 'GET',
    path: '/invocations/{id}/browsers',
    operationId: 'getInvocationsBrowsersById',
    handler: (ctx) => json(200, { browsers: invocationBrowsers(ctx).map((b) => browserView(ctx.sim, b)) }),
  },
  {
    method: 'DELETE',
    path: '/invocations/{id}/browsers',
    operationId: 'deleteInvocationsBrowsersById',
    handler: (ctx) => {
      for (const b of invocationBrowsers(ctx)) endBrowser(ctx.sim, b);
      return empty(204);
    },
  },
  {
    method: 'GET',
    path: '/invocations/{id}/events',
    operationId: 'getInvocationsEventsById',
    handler: (ctx) => serveSse(ctx, lookupInvocation(ctx).log, { filter: sinceFilter(ctx) }),
  },
];
