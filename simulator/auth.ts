/**
 * Managed auth: auth connections with simulated login flows, and the deprecated /agents/auth API (a view of
 * the same connections; its "invocations" are the connections' login flows).
 *
 * Flow: login -> DISCOVERING -> AWAITING_INPUT (username + password fields, a Google SSO button) -> submit ->
 * SUBMITTING -> COMPLETED/SUCCESS, one step per eventIntervalMs. A password of `wrong-password` comes back to
 * AWAITING_INPUT with a website_error; so does a username on a `*.invalid` domain, which the website quotes (whether
 * typed in or stored in the connection's credential). Choosing the SSO provider goes through
 * AWAITING_EXTERNAL_ACTION. A connection whose credential has stored values logs in without input. Flows expire after 10 minutes. Every
 * state change is a managed_auth_state event on the connection's stream, which ends when the flow ends.
 */
import type { SimContext } from './context.js';
import { upsertCredential } from './credentials.js';
import { ApiError, badRequest, conflict, gone, notFound, unprocessable } from './errors.js';
import { EventLog } from './event-log.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, empty, json, page, param } from './http.js';
import { createProfile } from './profiles.js';
import { byId } from './state.js';
import { serveSse } from './streams.js';
import type { AuthConnectionRecord, AuthFlowRecord, CredentialRef, DiscoveredField, FlowStep, Json } from './types.js';
import { compact, nowIso } from './util.js';

const FLOW_TTL_MS = 10 * 60 * 1000;
const DEFAULT_HEALTH_CHECK_INTERVAL = 3600;

const LOGIN_FIELDS: DiscoveredField[] = [
  {
    name: 'username',
    type: 'email',
    label: 'Email address',
    placeholder: 'you@example.com',
    required: true,
    selector: 'input#username',
  },
  { name: 'password', type: 'password', label: 'Password', required: true, selector: 'input#password' },
];
const SSO_BUTTONS = [
  {
    selector: "xpath=//button[contains(text(), 'Continue with Google')]",
    provider: 'google',
    label: 'Continue with Google',
  },
];

// ---- views ------------------------------------------------------------------------------------------------

const currentFlow = (sim: SimContext, c: AuthConnectionRecord): AuthFlowRecord | undefined =>
  c.flowId ? sim.state.authFlows.get(c.flowId) : undefined;

/** The stored values of the connection's credential, when it has any. */
function credentialValues(sim: SimContext, ref: CredentialRef | undefined): Record<string, string> | undefined {
  if (!ref?.name) return undefined;
  const cred = [...sim.state.credentials.values()].find((c) => c.name === ref.name);
  return cred !== undefined && Object.keys(cred.values).length > 0 ? cred.values : undefined;
}

function reauth(sim: SimContext, c: AuthConnectionRecord): { can: boolean; reason: string } {
  if (c.credential?.provider) return { can: true, reason: 'external_credential' };
  if (!c.lastLoginAt) return { can: false, reason: 'no_prior_successful_login' };
  if (credentialValues(sim, c.credential)) return { can: true, reason: 'has_credential' };
  return { can: false, reason: 'no_credential' };
}

/** Flow fields shared by ManagedAuth and ManagedAuthStateEvent. */
function flowFields(f: AuthFlowRecord, c: AuthConnectionRecord): Json {
  const inProgress = f.status === 'IN_PROGRESS';
  const awaiting = inProgress && (f.step === 'AWAITING_INPUT' || f.step === 'AWAITING_EXTERNAL_ACTION');
  return compact({
    flow_status: f.status,
    flow_step: f.step,
    flow_type: f.type,
    discovered_fields: awaiting && f.step === 'AWAITING_INPUT' ? f.discoveredFields?.map((d) => ({ ...d })) : undefined,
    pending_sso_buttons: awaiting && f.step === 'AWAITING_INPUT' ? f.ssoButtons?.map((b) => ({ ...b })) : undefined,
    external_action_message: inProgress && f.step === 'AWAITING_EXTERNAL_ACTION' ? f.externalActionMessage : undefined,
    website_error: f.websiteError,
    error_message: f.errorMessage,
    error_code: f.errorCode,
    post_login_url: f.status === 'SUCCESS' ? c.postLoginUrl : undefined,
    hosted_url: inProgress ? f.hostedUrl : undefined,
    live_view_url: inProgress ? f.liveViewUrl : undefined,
  });
}

export function connectionView(sim: SimContext, c: AuthConnectionRecord): Json {
  const f = currentFlow(sim, c);
  const { can, reason } = reauth(sim, c);
  const flow = f ? flowFields(f, c) : {};
  return compact({
    id: c.id,
    profile_name: c.profileName,
    domain: c.domain,
    status: c.status,
    last_auth_check_at: c.lastAuthCheckAt,
    last_auth_at: c.lastAuthCheckAt,
    credential: c.credential ? { ...c.credential } : undefined,
    can_reauth: can,
    can_reauth_reason: reason,
    proxy_id: c.proxyId,
    allowed_domains: [...c.allowedDomains],
    login_url: c.loginUrl,
    post_login_url: c.postLoginUrl,
    ...flow,
    flow_expires_at: f ? f.expiresAt : undefined,
    sso_provider: f?.ssoProvider,
    health_check_interval: c.healthCheckInterval ?? DEFAULT_HEALTH_CHECK_INTERVAL,
    health_checks: c.healthChecks,
    auto_reauth: c.autoReauth,
    save_credentials: c.saveCredentials,
    record_session: c.recordSession,
  });
}

function agentView(sim: SimContext, c: AuthConnectionRecord): Json {
  const { can, reason } = reauth(sim, c);
  const credentialId = c.credential?.name
    ? [...sim.state.credentials.values()].find((cr) => cr.name === c.credential?.name)?.id
    : undefined;
  return compact({
    id: c.id,
    profile_name: c.profileName,
    domain: c.domain,
    status: c.status,
    last_auth_check_at: c.lastAuthCheckAt,
    credential_id: credentialId,
    credential: c.credential ? { ...c.credential } : undefined,
    has_selectors: c.hasSelectors,
    can_reauth: can,
    can_reauth_reason: reason,
    allowed_domains: [...c.allowedDomains],
    post_login_url: c.postLoginUrl,
  });
}

const AGENT_STEPS: Record<FlowStep, string> = {
  DISCOVERING: 'discovering',
  AWAITING_INPUT: 'awaiting_input',
  AWAITING_EXTERNAL_ACTION: 'awaiting_external_action',
  SUBMITTING: 'submitting',
  COMPLETED: 'completed',
};

function agentInvocationView(sim: SimContext, f: AuthFlowRecord): Json {
  const c = sim.state.authConnections.get(f.connectionId);
  const inProgress = f.status === 'IN_PROGRESS';
  const awaitingInput = inProgress && f.step === 'AWAITING_INPUT';
  return compact({
    app_name: 'Simulator Org',
    domain: c?.domain ?? '',
    status: f.status,
    step: f.status === 'EXPIRED' ? 'expired' : AGENT_STEPS[f.step],
    type: f.type === 'LOGIN' ? 'login' : 'reauth',
    expires_at: f.expiresAt,
    pending_fields: awaitingInput ? f.discoveredFields?.map((d) => ({ ...d })) : undefined,
    pending_sso_buttons: awaitingInput ? f.ssoButtons?.map((b) => ({ ...b })) : undefined,
    submitted_fields: f.submittedFields.length > 0 ? [...f.submittedFields] : undefined,
    error_message: f.errorMessage,
    live_view_url: inProgress ? f.liveViewUrl : undefined,
    external_action_message: inProgress && f.step === 'AWAITING_EXTERNAL_ACTION' ? f.externalActionMessage : undefined,
    sso_provider: f.ssoProvider,
  });
}

// ---- flow state machine -----------------------------------------------------------------------------------

function publish(c: AuthConnectionRecord, f: AuthFlowRecord): void {
  c.log.push({ event: 'managed_auth_state', timestamp: nowIso(), ...flowFields(f, c) });
  if (f.status !== 'IN_PROGRESS') c.log.finish();
}

function update(sim: SimContext, f: AuthFlowRecord, changes: Partial<AuthFlowRecord>): void {
  const c = sim.state.authConnections.get(f.connectionId);
  Object.assign(f, changes);
  if (c && c.flowId === f.id) publish(c, f);
}

/** Runs `fn` after `steps` intervals if the flow is still in progress. */
function later(sim: SimContext, f: AuthFlowRecord, steps: number, fn: () => void): void {
  sim.timers.after(steps * sim.options.eventIntervalMs, () => {
    if (f.status === 'IN_PROGRESS') fn();
  });
}

function succeed(sim: SimContext, f: AuthFlowRecord, values?: Record<string, string>): void {
  const c = sim.state.authConnections.get(f.connectionId);
  if (!c) return;
  const now = nowIso();
  c.status = 'AUTHENTICATED';
  c.lastAuthCheckAt = now;
  c.lastLoginAt = now;
  c.postLoginUrl = `https://${c.domain}/`;
  c.hasSelectors = true;
  const profile = [...sim.state.profiles.values()].find((p) => p.name === c.profileName);
  if (profile) {
    profile.capturedAt = now;
    profile.updatedAt = now;
    profile.lastUsedAt = now;
  }
  if (values && Object.keys(values).length > 0) {
    const name =
      f.saveCredentialAs ?? (c.saveCredentials ? (c.credential?.name ?? `${c.profileName}-${c.domain}`) : undefined);
    if (name) {
      upsertCredential(sim, name, c.domain, values);
      if (!c.credential?.provider) c.credential = { name };
    }
  }
  update(sim, f, { status: 'SUCCESS', step: 'COMPLETED', websiteError: undefined });
}

/**
 * What the website answers a login with these values: undefined when it accepts them. A username on a `*.invalid`
 * domain has no account, and the website says so quoting it, as real ones do: a server passing the flow's state on
 * must not show it (the username is a write-only credential value or submitted field).
 */
function websiteRefusal(values: Record<string, string>): string | undefined {
  if (values['password'] === 'wrong-password') return 'Incorrect password';
  const username = values['username'];
  if (username && /\.invalid$/i.test(username)) return `No account found for ${username}`;
  return undefined;
}

function awaitInput(sim: SimContext, f: AuthFlowRecord, websiteError?: string): void {
  update(sim, f, { step: 'AWAITING_INPUT', discoveredFields: LOGIN_FIELDS, ssoButtons: SSO_BUTTONS, websiteError });
}

function discover(sim: SimContext, f: AuthFlowRecord): void {
  const c = sim.state.authConnections.get(f.connectionId);
  if (!c) return;
  const stored = credentialValues(sim, c.credential);
  if (stored) {
    update(sim, f, { step: 'SUBMITTING', submittedFields: LOGIN_FIELDS.map((d) => d.name) });
    later(sim, f, 1, () => {
      // The stored values are refused: the flow asks for input instead, showing why.
      const refusal = websiteRefusal(stored);
      if (refusal) awaitInput(sim, f, refusal);
      else succeed(sim, f);
    });
    return;
  }
  awaitInput(sim, f);
}

function cancelFlow(sim: SimContext, c: AuthConnectionRecord): void {
  const f = currentFlow(sim, c);
  if (f && f.status === 'IN_PROGRESS') update(sim, f, { status: 'CANCELED', errorMessage: 'Login flow was canceled' });
}

export function startFlow(
  sim: SimContext,
  c: AuthConnectionRecord,
  viaAgentApi: boolean,
  saveAs?: string,
): AuthFlowRecord {
  const id = sim.ids.id();
  const expiresMs = Date.now() + FLOW_TTL_MS;
  const handoffCode = sim.ids.token(44, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  const f: AuthFlowRecord = {
    id,
    connectionId: c.id,
    type: c.status === 'AUTHENTICATED' ? 'REAUTH' : 'LOGIN',
    status: 'IN_PROGRESS',
    step: 'DISCOVERING',
    handoffCode,
    codeUsed: false,
    expiresAt: new Date(expiresMs).toISOString(),
    expiresMs,
    hostedUrl: `${sim.baseUrl}/hosted/auth/${id}?code=${handoffCode}`,
    liveViewUrl: `${sim.baseUrl}/browser/auth-${id}/live`,
    submittedFields: [],
    saveCredentialAs: saveAs,
    viaAgentApi,
  };
  sim.state.authFlows.set(id, f);
  c.flowId = id;
  c.log.reopen();
  publish(c, f);
  later(sim, f, 1, () => discover(sim, f));
  sim.timers.after(FLOW_TTL_MS, () => {
    if (f.status === 'IN_PROGRESS') update(sim, f, { status: 'EXPIRED', errorMessage: 'Login flow expired' });
  });
  return f;
}

interface SubmitInput {
  fields?: Record<string, string>;
  ssoSelector?: string;
  ssoProvider?: string;
  mfaOption?: string;
  signInOption?: string;
}

function submit(sim: SimContext, f: AuthFlowRecord | undefined, input: SubmitInput): Reply {
  const given = Object.values(input).filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw badRequest(
      'provide exactly one of: fields, sso_button_selector, sso_provider, mfa_option_id, sign_in_option_id',
    );
  }
  if (f?.status !== 'IN_PROGRESS') throw new ApiError(400, 'no_active_flow', 'no login flow is in progress');
  if (f.step !== 'AWAITING_INPUT') throw unprocessable(`the login flow is not awaiting input (step ${f.step})`);
  if (input.mfaOption !== undefined || input.signInOption !== undefined) {
    throw unprocessable('the login flow offered no MFA or sign-in options');
  }
  if (input.fields) {
    const fields = input.fields;
    const known = new Set((f.discoveredFields ?? []).map((d) => d.name));
    const unknown = Object.keys(fields).filter((k) => !known.has(k));
    if (unknown.length > 0) throw badRequest(`fields: unknown field(s) ${unknown.join(', ')}`);
    const missing = (f.discoveredFields ?? []).filter((d) => d.required !== false && !fields[d.name]);
    if (missing.length > 0)
      throw badRequest(`fields: missing required field(s) ${missing.map((d) => d.name).join(', ')}`);
    update(sim, f, { step: 'SUBMITTING', submittedFields: Object.keys(fields), websiteError: undefined });
    later(sim, f, 1, () => {
      const refusal = websiteRefusal(fields);
      if (refusal) update(sim, f, { step: 'AWAITING_INPUT', websiteError: refusal });
      else succeed(sim, f, fields);
    });
  } else {
    const provider = input.ssoProvider ?? f.ssoButtons?.find((b) => b.selector === input.ssoSelector)?.provider;
    const button = f.ssoButtons?.find((b) => b.provider === provider);
    if (!button) throw unprocessable('no matching SSO button is pending');
    update(sim, f, {
      step: 'AWAITING_EXTERNAL_ACTION',
      ssoProvider: button.provider,
      externalActionMessage: `Approve the sign-in to ${button.provider} on your phone`,
    });
    later(sim, f, 2, () => succeed(sim, f));
  }
  return json(202, { accepted: true });
}

function exchange(sim: SimContext, f: AuthFlowRecord | undefined, code: string): Reply {
  // The refused code is quoted, as an API could: a server passing it on must not show it.
  if (!f || f.handoffCode !== code) throw badRequest(`invalid handoff code ${JSON.stringify(code)}`);
  if (f.codeUsed) throw gone('handoff code was already exchanged');
  if (f.status === 'EXPIRED' || Date.now() > f.expiresMs) throw gone('handoff code expired');
  f.codeUsed = true;
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 30 * 60;
  const jwt = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ invocation_id: f.id, exp })}.${sim.ids.token(43)}`;
  sim.state.jwts.add(jwt);
  return json(200, { invocation_id: f.id, jwt });
}

// ---- connections ------------------------------------------------------------------------------------------

interface ConnectionBody {
  domain?: string;
  profile_name?: string;
  login_url?: string;
  proxy?: { id?: string; name?: string };
  credential?: CredentialRef;
  allowed_domains?: string[];
  health_check_interval?: number;
  health_checks?: boolean;
  auto_reauth?: boolean;
  save_credentials?: boolean;
  record_session?: boolean;
}

function resolveProxy(sim: SimContext, ref: { id?: string; name?: string }, field: string): string {
  const key = ref.id ?? ref.name;
  const proxy = [...sim.state.proxies.values()].find((p) => !p.deleted && (p.id === key || p.name === key));
  if (!proxy) throw badRequest(`${field}: proxy '${key}' not found`);
  return proxy.id;
}

function checkCredentialRef(sim: SimContext, ref: CredentialRef, field: string): void {
  if (ref.name !== undefined && (ref.provider !== undefined || ref.path !== undefined || ref.auto !== undefined)) {
    throw badRequest(`${field}: use either { name } or { provider, path | auto }`);
  }
  if (ref.name !== undefined) {
    if (![...sim.state.credentials.values()].some((c) => c.name === ref.name)) {
      throw badRequest(`${field}.name: credential '${ref.name}' not found`);
    }
  } else if (ref.provider !== undefined) {
    if (![...sim.state.credentialProviders.values()].some((p) => p.name === ref.provider)) {
      throw badRequest(`${field}.provider: credential provider '${ref.provider}' not found`);
    }
    if (ref.path === undefined && ref.auto !== true)
      throw badRequest(`${field}: provider references need path or auto: true`);
  } else throw badRequest(`${field}: provide name, or provider with path or auto`);
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function createConnection(
  ctx: Ctx,
  body: ConnectionBody & { domain: string; profile_name: string },
): AuthConnectionRecord {
  const { sim } = ctx;
  if (!DOMAIN_RE.test(body.domain)) throw badRequest(`domain: '${body.domain}' is not a valid domain name`);
  for (const c of sim.state.authConnections.values()) {
    if (c.domain === body.domain && c.profileName === body.profile_name) {
      throw new ApiError(
        409,
        'already_exists',
        'Auth connection already exists for this profile and domain',
        undefined,
        {
          existing_id: c.id,
        },
      );
    }
  }
  const proxyId = body.proxy ? resolveProxy(sim, body.proxy, 'proxy') : undefined;
  if (body.credential) checkCredentialRef(sim, body.credential, 'credential');
  if (![...sim.state.profiles.values()].some((p) => p.name === body.profile_name))
    createProfile(ctx, body.profile_name);
  const c: AuthConnectionRecord = {
    id: sim.ids.id('ma_'),
    profileName: body.profile_name,
    domain: body.domain,
    status: 'NEEDS_AUTH',
    loginUrl: body.login_url,
    proxyId,
    credential: body.credential,
    allowedDomains: body.allowed_domains ?? [],
    healthCheckInterval: body.health_check_interval,
    healthChecks: body.health_checks ?? true,
    autoReauth: body.auto_reauth ?? true,
    saveCredentials: body.save_credentials ?? true,
    recordSession: body.record_session ?? false,
    hasSelectors: false,
    log: new EventLog(10000),
  };
  sim.state.authConnections.set(c.id, c);
  return c;
}

/** Auth connections (the deprecated agents API shows the same records) filtered by ?profile_name and ?domain. */
function connectionsMatching(ctx: Ctx): AuthConnectionRecord[] {
  const { profile_name: profile, domain } = ctx.query;
  return [...ctx.sim.state.authConnections.values()].filter(
    (c) => (profile === undefined || c.profileName === profile) && (domain === undefined || c.domain === domain),
  );
}

const lookupConnection = (ctx: Ctx): AuthConnectionRecord =>
  byId(ctx.sim.state.authConnections, param(ctx, 'id'), 'auth connection');

function patchConnection(ctx: Ctx): Reply {
  const c = lookupConnection(ctx);
  const body = bodyOf<ConnectionBody>(ctx);
  if (body.proxy) c.proxyId = resolveProxy(ctx.sim, body.proxy, 'proxy');
  if (body.credential) {
    checkCredentialRef(ctx.sim, body.credential, 'credential');
    c.credential = body.credential;
  }
  if (body.login_url !== undefined) c.loginUrl = body.login_url || undefined;
  if (body.allowed_domains) c.allowedDomains = body.allowed_domains;
  if (body.health_check_interval !== undefined) c.healthCheckInterval = body.health_check_interval;
  if (body.health_checks !== undefined) c.healthChecks = body.health_checks;
  if (body.auto_reauth !== undefined) c.autoReauth = body.auto_reauth;
  if (body.save_credentials !== undefined) c.saveCredentials = body.save_credentials;
  if (body.record_session !== undefined) c.recordSession = body.record_session;
  return json(200, connectionView(ctx.sim, c));
}

function login(ctx: Ctx): Reply {
  const { sim } = ctx;
  const c = lookupConnection(ctx);
  const body = bodyOf<{ proxy?: { id?: string; name?: string }; record_session?: boolean }>(ctx);
  const existing = currentFlow(sim, c);
  if (existing?.status === 'IN_PROGRESS' && existing.expiresMs > Date.now()) {
    throw conflict('a login flow is already in progress for this auth connection');
  }
  if (body.proxy) c.proxyId = resolveProxy(sim, body.proxy, 'proxy');
  const f = startFlow(sim, c, false);
  return json(200, {
    id: c.id,
    flow_type: f.type,
    hosted_url: f.hostedUrl,
    flow_expires_at: f.expiresAt,
    handoff_code: f.handoffCode,
    live_view_url: f.liveViewUrl,
  });
}

function removeConnection(sim: SimContext, c: AuthConnectionRecord): void {
  cancelFlow(sim, c);
  c.log.finish();
  sim.state.authConnections.delete(c.id);
}

function lookupFlow(ctx: Ctx): AuthFlowRecord {
  return byId(ctx.sim.state.authFlows, param(ctx, 'invocation_id'), 'auth invocation');
}

export const AUTH_ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/auth/connections',
    operationId: 'postAuthConnections',
    handler: (ctx) => {
      const body = bodyOf<ConnectionBody & { domain: string; profile_name: string }>(ctx);
      return json(201, connectionView(ctx.sim, createConnection(ctx, body)));
    },
  },
  {
    method: 'GET',
    path: '/auth/connections',
    operationId: 'getAuthConnections',
    handler: (ctx) => page(ctx, connectionsMatching(ctx), false, (c) => connectionView(ctx.sim, c)),
  },
  {
    method: 'GET',
    path: '/auth/connections/{id}',
    operationId: 'getAuthConnectionsById',
    handler: (ctx) => json(200, connectionView(ctx.sim, lookupConnection(ctx))),
  },
  {
    method: 'DELETE',
    path: '/auth/connections/{id}',
    operationId: 'deleteAuthConnectionsById',
    handler: (ctx) => {
      removeConnection(ctx.sim, lookupConnection(ctx));
      return empty(204);
    },
  },
  {
    method: 'PATCH',
    path: '/auth/connections/{id}',
    operationId: 'patchAuthConnectionsById',
    handler: patchConnection,
  },
  {
    method: 'POST',
    path: '/auth/connections/{id}/login',
    operationId: 'postAuthConnectionsLogin',
    handler: login,
  },
  {
    method: 'POST',
    path: '/auth/connections/{id}/submit',
    operationId: 'postAuthConnectionsSubmit',
    handler: (ctx) => {
      const c = lookupConnection(ctx);
      const b = bodyOf<{
        fields?: Record<string, string>;
        sso_button_selector?: string;
        sso_provider?: string;
        mfa_option_id?: string;
        sign_in_option_id?: string;
      }>(ctx);
      return submit(ctx.sim, currentFlow(ctx.sim, c), {
        fields: b.fields,
        ssoSelector: b.sso_button_selector,
        ssoProvider: b.sso_provider,
        mfaOption: b.mfa_option_id,
        signInOption: b.sign_in_option_id,
      });
    },
  },
  {
    method: 'GET',
    path: '/auth/connections/{id}/events',
    operationId: 'getAuthConnectionsEventsById',
    handler: (ctx) => serveSse(ctx, lookupConnection(ctx).log),
  },
  {
    method: 'POST',
    path: '/auth/connections/{id}/exchange',
    operationId: 'postAuthConnectionsExchange',
    auth: 'public',
    handler: (ctx) => {
      const c = lookupConnection(ctx);
      return exchange(ctx.sim, currentFlow(ctx.sim, c), bodyOf<{ code: string }>(ctx).code);
    },
  },
  // ---- deprecated /agents/auth ----
  {
    method: 'POST',
    path: '/agents/auth',
    operationId: 'postAgentsAuth',
    handler: (ctx) => {
      const body = bodyOf<{
        domain: string;
        profile_name: string;
        login_url?: string;
        proxy?: { proxy_id?: string };
        credential_name?: string;
        allowed_domains?: string[];
      }>(ctx);
      const existing = [...ctx.sim.state.authConnections.values()].find(
        (c) => c.domain === body.domain && c.profileName === body.profile_name,
      );
      const c =
        existing ??
        createConnection(ctx, {
          domain: body.domain,
          profile_name: body.profile_name,
          login_url: body.login_url,
          proxy: body.proxy?.proxy_id ? { id: body.proxy.proxy_id } : undefined,
          credential: body.credential_name ? { name: body.credential_name } : undefined,
          allowed_domains: body.allowed_domains,
        });
      return json(200, agentView(ctx.sim, c));
    },
  },
  {
    method: 'GET',
    path: '/agents/auth',
    operationId: 'getAgentsAuth',
    handler: (ctx) => page(ctx, connectionsMatching(ctx), false, (c) => agentView(ctx.sim, c)),
  },
  {
    method: 'POST',
    path: '/agents/auth/invocations',
    operationId: 'postAgentsAuthInvocations',
    handler: (ctx) => {
      const { sim } = ctx;
      const body = bodyOf<{ auth_agent_id: string; save_credential_as?: string }>(ctx);
      const c = byId(sim.state.authConnections, body.auth_agent_id, 'auth agent');
      cancelFlow(sim, c);
      const f = startFlow(sim, c, true, body.save_credential_as);
      return json(200, {
        invocation_id: f.id,
        type: f.type === 'LOGIN' ? 'login' : 'reauth',
        handoff_code: f.handoffCode,
        hosted_url: f.hostedUrl,
        expires_at: f.expiresAt,
      });
    },
  },
  {
    method: 'GET',
    path: '/agents/auth/{id}',
    operationId: 'getAgentsAuthById',
    handler: (ctx) =>
      json(200, agentView(ctx.sim, byId(ctx.sim.state.authConnections, param(ctx, 'id'), 'auth agent'))),
  },
  {
    method: 'DELETE',
    path: '/agents/auth/{id}',
    operationId: 'deleteAgentsAuthById',
    handler: (ctx) => {
      removeConnection(ctx.sim, byId(ctx.sim.state.authConnections, param(ctx, 'id'), 'auth agent'));
      return empty(204);
    },
  },
  {
    method: 'GET',
    path: '/agents/auth/invocations/{invocation_id}',
    operationId: 'getAgentsAuthInvocationsInvocationId',
    auth: 'jwt',
    handler: (ctx) => json(200, agentInvocationView(ctx.sim, lookupFlow(ctx))),
  },
  {
    method: 'POST',
    path: '/agents/auth/invocations/{invocation_id}/exchange',
    operationId: 'postAgentsAuthInvocationsExchange',
    auth: 'public',
    handler: (ctx) => exchange(ctx.sim, lookupFlow(ctx), bodyOf<{ code: string }>(ctx).code),
  },
  {
    method: 'POST',
    path: '/agents/auth/invocations/{invocation_id}/submit',
    operationId: 'postAgentsAuthInvocationsSubmit',
    auth: 'jwt',
    handler: (ctx) => {
      const f = lookupFlow(ctx);
      const b = bodyOf<{ field_values?: Record<string, string>; sso_button?: string; selected_mfa_type?: string }>(ctx);
      const c = ctx.sim.state.authConnections.get(f.connectionId);
      if (!c || c.flowId !== f.id) throw notFound('auth invocation', f.id);
      return submit(ctx.sim, f, { fields: b.field_values, ssoSelector: b.sso_button, mfaOption: b.selected_mfa_type });
    },
  },
];
