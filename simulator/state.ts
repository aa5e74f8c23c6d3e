/** All in-memory state of one simulator instance, plus id/name lookups shared by the areas. */
import { notFound } from './errors.js';
import type {
  ApiKeyRecord,
  AppVersionRecord,
  AuthConnectionRecord,
  AuthFlowRecord,
  BrowserRecord,
  CredentialProviderRecord,
  CredentialRecord,
  DeploymentRecord,
  ExtensionRecord,
  InvocationRecord,
  PoolRecord,
  ProfileRecord,
  ProjectRecord,
  ProxyRecord,
} from './types.js';

export class SimState {
  readonly browsers = new Map<string, BrowserRecord>();
  readonly profiles = new Map<string, ProfileRecord>();
  readonly proxies = new Map<string, ProxyRecord>();
  readonly extensions = new Map<string, ExtensionRecord>();
  readonly pools = new Map<string, PoolRecord>();
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly appVersions = new Map<string, AppVersionRecord>();
  readonly invocations = new Map<string, InvocationRecord>();
  readonly authConnections = new Map<string, AuthConnectionRecord>();
  readonly authFlows = new Map<string, AuthFlowRecord>();
  readonly credentials = new Map<string, CredentialRecord>();
  readonly credentialProviders = new Map<string, CredentialProviderRecord>();
  readonly projects = new Map<string, ProjectRecord>();
  readonly apiKeys = new Map<string, ApiKeyRecord>();
  /** JWTs handed out by the handoff-code exchange endpoints. */
  readonly jwts = new Set<string>();
  nextPid = 4200;
}

/** Finds a record by id, or else by its `name` field (the `{id_or_name}` path parameters). */
export function byIdOrName<T extends { id: string; name?: string }>(
  map: Map<string, T>,
  idOrName: string,
  what: string,
  visible: (r: T) => boolean = () => true,
): T {
  const direct = map.get(idOrName);
  if (direct && visible(direct)) return direct;
  for (const r of map.values()) if (r.name === idOrName && visible(r)) return r;
  throw notFound(what, idOrName);
}

export function byId<T>(map: Map<string, T>, id: string, what: string): T {
  const r = map.get(id);
  if (!r) throw notFound(what, id);
  return r;
}

export function nameTaken<T extends { id: string; name?: string }>(
  map: Map<string, T>,
  name: string | undefined,
  exceptId?: string,
): boolean {
  if (name === undefined) return false;
  for (const r of map.values()) if (r.name === name && r.id !== exceptId) return true;
  return false;
}
