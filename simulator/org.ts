/**
 * Organisation: projects with limits (served under /org/projects and the deprecated /projects, same state) and
 * API keys. The first project's limits are enforced: max_concurrent_sessions and max_concurrent_invocations
 * (429) and max_pooled_sessions (403). Keys created here are accepted as bearer tokens when the simulator runs
 * with an `apiKey`.
 */
import { badRequest, conflict, notFound } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, deleteFrom, empty, json, matchesQuery, page, param } from './http.js';
import { byId } from './state.js';
import type { ApiKeyRecord, Json, ProjectLimits, ProjectRecord } from './types.js';
import { nowIso } from './util.js';

function projectView(p: ProjectRecord): Json {
  return { id: p.id, name: p.name, status: p.status, created_at: p.createdAt, updated_at: p.updatedAt };
}

const lookupProject = (ctx: Ctx): ProjectRecord => byId(ctx.sim.state.projects, param(ctx, 'id'), 'project');

function checkProjectName(ctx: Ctx, name: string, exceptId?: string): void {
  const length = [...name].length;
  if (length < 1 || length > 255) throw badRequest('name must be 1-255 characters long');
  for (const p of ctx.sim.state.projects.values()) {
    if (p.name === name && p.id !== exceptId) throw conflict(`a project named '${name}' already exists`);
  }
}

function createProject(ctx: Ctx): Reply {
  const { name } = bodyOf<{ name: string }>(ctx);
  checkProjectName(ctx, name);
  const now = nowIso();
  const p: ProjectRecord = {
    id: ctx.sim.ids.id('proj_'),
    name,
    status: 'active',
    createdAt: now,
    updatedAt: now,
    limits: {},
  };
  ctx.sim.state.projects.set(p.id, p);
  return json(201, projectView(p));
}

function updateProject(ctx: Ctx): Reply {
  const p = lookupProject(ctx);
  const body = bodyOf<{ name?: string; status?: ProjectRecord['status'] }>(ctx);
  if (body.name !== undefined) checkProjectName(ctx, body.name, p.id);
  if (body.name !== undefined) p.name = body.name;
  if (body.status !== undefined) p.status = body.status;
  p.updatedAt = nowIso();
  return json(200, projectView(p));
}

function deleteProject(ctx: Ctx): Reply {
  const p = lookupProject(ctx);
  const keys = [...ctx.sim.state.apiKeys.values()].filter((k) => k.projectId === p.id).length;
  if (keys > 0) throw conflict(`project ${p.name} is not empty: ${keys} API key(s) are scoped to it`);
  if (ctx.sim.state.projects.size === 1) throw conflict('the only project of the organization cannot be deleted');
  ctx.sim.state.projects.delete(p.id);
  return empty(204);
}

function updateLimits(ctx: Ctx): Reply {
  const p = lookupProject(ctx);
  const body = bodyOf<Record<keyof ProjectLimits, number | null | undefined>>(ctx);
  for (const key of ['max_concurrent_sessions', 'max_concurrent_invocations', 'max_pooled_sessions'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (value !== null && value < 0) throw badRequest(`${key} must be >= 0`);
    if (value === null || value === 0) delete p.limits[key];
    else p.limits[key] = value;
  }
  p.updatedAt = nowIso();
  return json(200, { ...p.limits });
}

/** The same project operations under /org/projects and (deprecated) /projects. */
interface ProjectOperationIds {
  list: string;
  create: string;
  get: string;
  update: string;
  delete: string;
  getLimits: string;
  updateLimits: string;
}

function projectRoutes(prefix: '/org/projects' | '/projects', ids: ProjectOperationIds): Route[] {
  return [
    {
      method: 'GET',
      path: prefix,
      operationId: ids.list,
      handler: (ctx) => {
        const items = [...ctx.sim.state.projects.values()].filter((p) => matchesQuery(ctx.query['query'], p.name));
        return page(ctx, items, false, projectView);
      },
    },
    {
      method: 'POST',
      path: prefix,
      operationId: ids.create,
      handler: createProject,
    },
    {
      method: 'GET',
      path: `${prefix}/{id}`,
      operationId: ids.get,
      handler: (ctx) => json(200, projectView(lookupProject(ctx))),
    },
    {
      method: 'PATCH',
      path: `${prefix}/{id}`,
      operationId: ids.update,
      handler: updateProject,
    },
    { method: 'DELETE', path: `${prefix}/{id}`, operationId: ids.delete, handler: deleteProject },
    {
      method: 'GET',
      path: `${prefix}/{id}/limits`,
      operationId: ids.getLimits,
      handler: (ctx) => json(200, { ...lookupProject(ctx).limits }),
    },
    {
      method: 'PATCH',
      path: `${prefix}/{id}/limits`,
      operationId: ids.updateLimits,
      handler: updateLimits,
    },
  ];
}

// ---- API keys ---------------------------------------------------------------------------------------------

const CREATOR = { id: 'user_simulator', email: 'developer@example.com', name: 'Simulator User' };

function apiKeyView(ctx: Ctx, k: ApiKeyRecord): Json {
  const project = k.projectId ? ctx.sim.state.projects.get(k.projectId) : undefined;
  return {
    id: k.id,
    name: k.name,
    created_at: k.createdAt,
    created_by: CREATOR,
    expires_at: k.expiresAt,
    project_id: k.projectId,
    project_name: project?.name ?? null,
    masked_key: `${k.key.slice(0, 7)}...${k.key.slice(-4)}`,
  };
}

const lookupKey = (ctx: Ctx): ApiKeyRecord => byId(ctx.sim.state.apiKeys, param(ctx, 'id'), 'API key');

function createKey(ctx: Ctx): Reply {
  const body = bodyOf<{ name: string; days_to_expire?: number | null; project_id?: string | null }>(ctx);
  if (body.project_id && !ctx.sim.state.projects.has(body.project_id)) throw notFound('project', body.project_id);
  const now = Date.now();
  const k: ApiKeyRecord = {
    id: ctx.sim.ids.id(),
    name: body.name,
    key: `sk_${ctx.sim.ids.token(40, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
    createdAt: new Date(now).toISOString(),
    expiresAt: body.days_to_expire ? new Date(now + body.days_to_expire * 86_400_000).toISOString() : null,
    projectId: body.project_id ?? null,
  };
  ctx.sim.state.apiKeys.set(k.id, k);
  return json(201, { ...apiKeyView(ctx, k), key: k.key });
}

export const ORG_ROUTES: Route[] = [
  ...projectRoutes('/org/projects', {
    list: 'getOrgProjects',
    create: 'postOrgProjects',
    get: 'getOrgProjectsId',
    update: 'patchOrgProjectsId',
    delete: 'deleteOrgProjectsId',
    getLimits: 'getOrgProjectLimits',
    updateLimits: 'patchOrgProjectLimits',
  }),
  ...projectRoutes('/projects', {
    list: 'getProjects',
    create: 'postProjects',
    get: 'getProjectsId',
    update: 'patchProjectsId',
    delete: 'deleteProjectsId',
    getLimits: 'getProjectLimits',
    updateLimits: 'patchProjectLimits',
  }),
  {
    method: 'GET',
    path: '/org/api_keys',
    operationId: 'listApiKeys',
    handler: (ctx) => page(ctx, [...ctx.sim.state.apiKeys.values()], false, (k) => apiKeyView(ctx, k)),
  },
  {
    method: 'POST',
    path: '/org/api_keys',
    operationId: 'postApiKeys',
    handler: createKey,
  },
  {
    method: 'GET',
    path: '/org/api_keys/{id}',
    operationId: 'getApiKeysById',
    handler: (ctx) => json(200, apiKeyView(ctx, lookupKey(ctx))),
  },
  {
    method: 'PATCH',
    path: '/org/api_keys/{id}',
    operationId: 'patchApiKeysById',
    handler: (ctx) => {
      const k = lookupKey(ctx);
      k.name = bodyOf<{ name: string }>(ctx).name;
      return json(200, apiKeyView(ctx, k));
    },
  },
  {
    method: 'DELETE',
    path: '/org/api_keys/{id}',
    operationId: 'deleteApiKeysById',
    handler: deleteFrom((sim) => sim.state.apiKeys, lookupKey),
  },
];
