/** Browser profiles: create/list/get/delete and the archive download (zstd-compressed tar). */
import { tar, zstdStored } from './archive.js';
import { conflict } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, bytes, deleteFrom, empty, json, matchesQuery, page, param } from './http.js';
import { byIdOrName, nameTaken } from './state.js';
import type { Json, ProfileRecord } from './types.js';
import { compact, nowIso } from './util.js';

export function profileView(p: ProfileRecord): Json {
  return compact({
    id: p.id,
    name: p.name,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    last_used_at: p.lastUsedAt,
  });
}

export function createProfile(ctx: Ctx, name: string | undefined): ProfileRecord {
  if (nameTaken(ctx.sim.state.profiles, name)) throw conflict(`a profile named '${name}' already exists`);
  const now = nowIso();
  const profile: ProfileRecord = { id: ctx.sim.ids.id(), name, createdAt: now, updatedAt: now };
  ctx.sim.state.profiles.set(profile.id, profile);
  return profile;
}

const lookup = (ctx: Ctx): ProfileRecord => byIdOrName(ctx.sim.state.profiles, param(ctx, 'id_or_name'), 'profile');

function download(ctx: Ctx): Reply {
  const profile = lookup(ctx);
  if (!profile.capturedAt) return empty(202);
  const captured = new Date(profile.capturedAt);
  const archive = tar([
    {
      name: 'Default/Preferences',
      data: Buffer.from(JSON.stringify({ profile: { name: profile.name ?? profile.id, exit_type: 'Normal' } })),
      mtime: captured,
    },
    { name: 'Local State', data: Buffer.from(JSON.stringify({ profile: { last_used: 'Default' } })), mtime: captured },
    {
      name: 'Default/Cookies',
      data: Buffer.from(`SQLite format 3\0simulated cookie store for ${profile.id}`),
      mtime: captured,
    },
  ]);
  return bytes(200, zstdStored(archive), 'application/octet-stream', {
    'content-disposition': `attachment; filename="${profile.name ?? profile.id}.tar.zst"`,
  });
}

export const PROFILE_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/profiles',
    operationId: 'postProfiles',
    handler: (ctx) => json(201, profileView(createProfile(ctx, bodyOf<{ name?: string }>(ctx).name))),
  },
  {
    method: 'GET',
    path: '/profiles',
    operationId: 'getProfiles',
    handler: (ctx) => {
      const items = [...ctx.sim.state.profiles.values()].filter((p) => matchesQuery(ctx.query['query'], p.id, p.name));
      return page(ctx, items, true, profileView);
    },
  },
  {
    method: 'GET',
    path: '/profiles/{id_or_name}',
    operationId: 'getProfileByIdOrName',
    handler: (ctx) => json(200, profileView(lookup(ctx))),
  },
  {
    method: 'DELETE',
    path: '/profiles/{id_or_name}',
    operationId: 'deleteProfileByIdOrName',
    handler: deleteFrom((sim) => sim.state.profiles, lookup),
  },
  {
    method: 'GET',
    path: '/profiles/{id_or_name}/download',
    operationId: 'downloadProfileByIdOrName',
    handler: download,
  },
];
