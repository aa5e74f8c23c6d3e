/** Records the simulator keeps in memory. JSON views of them are built by each area module. */

import type { EventLog } from './event-log.js';
import type { MemFs } from './memfs.js';

export type Json = Record<string, unknown>;

export interface Viewport {
  width: number;
  height: number;
  refresh_rate: number;
}

export interface TelemetryConfig {
  browser?: Record<string, { enabled?: boolean } | undefined>;
}

export interface PageState {
  url: string;
  title: string;
  navSeq: number;
  targetId: string;
  frameId: string;
  loaderId: string;
}

export interface ReplayRecord {
  id: string;
  startedAt: string;
  finishedAt?: string;
  /** When the recording has been processed and can be downloaded (ms epoch). */
  readyAtMs?: number;
  durationMs: number;
  startedMs: number;
  framerate: number;
  cancelMaxDuration?: () => void;
}

export interface ProcessStreamEvent {
  stream?: 'stdout' | 'stderr';
  data_b64?: string;
  event?: 'exit';
  exit_code?: number;
}

export interface ProcessRecord {
  id: string;
  pid: number;
  startedAt: string;
  state: 'running' | 'exited';
  exitCode?: number;
  tty: boolean;
  rows?: number;
  cols?: number;
  log: EventLog<ProcessStreamEvent>;
  writeStdin(data: Buffer): void;
  kill(signal: string): void;
}

export interface FsEvent {
  type: 'CREATE' | 'WRITE' | 'DELETE' | 'RENAME';
  name: string;
  path: string;
  is_dir: boolean;
}

export interface WatchRecord {
  id: string;
  path: string;
  recursive: boolean;
  log: EventLog<FsEvent>;
  stop(): void;
}

export interface BrowserRecord {
  id: string;
  /** Random token embedded in the made-up CDP / live-view URLs. */
  token: string;
  createdAt: string;
  createdMs: number;
  lastActivityMs: number;
  headless: boolean;
  stealth: boolean;
  gpu: boolean;
  kioskMode: boolean;
  timeoutSeconds: number;
  profileId?: string;
  saveProfileChanges: boolean;
  proxyId?: string;
  disableDefaultProxy: boolean;
  pool?: { id: string; name?: string };
  viewport: Viewport;
  startUrl?: string;
  chromePolicy?: Json;
  telemetry?: TelemetryConfig;
  invocationId?: string;
  extensionIds: string[];
  deletedAt?: string;
  deletedMs?: number;
  fs: MemFs;
  mouse: { x: number; y: number };
  scroll: { x: number; y: number };
  clipboard: string;
  cursorHidden: boolean;
  page: PageState;
  telemetryLog: EventLog<Json>;
  replays: Map<string, ReplayRecord>;
  processes: Map<string, ProcessRecord>;
  watches: Map<string, WatchRecord>;
  /** SSE responses open on this session (they count as activity for the idle timeout). */
  openStreams: number;
  /** Called once when the session ends (deleted, timed out, released without reuse). */
  onEnd: Array<() => void>;
}

export interface ProfileRecord {
  id: string;
  name?: string;
  createdAt: string;
  updatedAt?: string;
  lastUsedAt?: string;
  /** Set once a browser session that loaded the profile with save_changes ended. */
  capturedAt?: string;
}

export interface ProxyRecord {
  id: string;
  name?: string;
  type: 'datacenter' | 'isp' | 'residential' | 'mobile' | 'custom';
  protocol: 'http' | 'https';
  bypassHosts?: string[];
  config?: Json;
  /** A custom proxy's password: never answered, but quoted in a failed check's proxy URL (see proxies.ts). */
  password?: string;
  status: 'available' | 'unavailable';
  lastChecked?: string;
  ipAddress: string;
  deleted: boolean;
}

export interface ExtensionRecord {
  id: string;
  name?: string;
  createdAt: string;
  lastUsedAt?: string;
  data: Buffer;
}

export interface PoolRecord {
  id: string;
  name?: string;
  createdAt: string;
  /** BrowserPoolRequest with defaults filled in (echoed as browser_pool_config). */
  config: Json;
  /** Session ids currently acquired. */
  leased: Set<string>;
  /** Released sessions kept for reuse (still alive, not leased). */
  idle: string[];
  /** Long-polling acquire requests waiting for a browser. */
  waiters: Array<(browserId: string | undefined) => void>;
}

export interface AppAction {
  name: string;
}

export interface DeploymentRecord {
  id: string;
  status: 'queued' | 'in_progress' | 'running' | 'failed' | 'stopped';
  statusReason: string;
  entrypoint: string;
  envVars: Record<string, string>;
  createdAt: string;
  updatedAt?: string;
  appName: string;
  version: string;
  actions: AppAction[];
  force: boolean;
  /** Why the build will fail, decided at upload time (e.g. the entrypoint is not in the archive). */
  failure?: string;
  log: EventLog<Json>;
}

export interface AppVersionRecord {
  id: string;
  appName: string;
  version: string;
  deploymentId: string;
  actions: AppAction[];
  envVars: Record<string, string>;
}

export interface InvocationRecord {
  id: string;
  appName: string;
  version: string;
  actionName: string;
  deploymentId: string;
  payload?: string;
  output?: string;
  startedAt: string;
  finishedAt?: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  statusReason: string;
  /** Payload asked the simulated action to keep running until PATCHed (`{"hold": true}`). */
  hold: boolean;
  log: EventLog<Json>;
}

export interface CredentialRef {
  name?: string;
  provider?: string;
  path?: string;
  auto?: boolean;
}

export interface AuthConnectionRecord {
  id: string;
  profileName: string;
  domain: string;
  status: 'AUTHENTICATED' | 'NEEDS_AUTH';
  loginUrl?: string;
  proxyId?: string;
  credential?: CredentialRef;
  allowedDomains: string[];
  healthCheckInterval?: number;
  healthChecks: boolean;
  autoReauth: boolean;
  saveCredentials: boolean;
  recordSession: boolean;
  lastAuthCheckAt?: string;
  /** Set by the first successful login. */
  lastLoginAt?: string;
  postLoginUrl?: string;
  hasSelectors: boolean;
  /** Current (or most recent) login flow. */
  flowId?: string;
  log: EventLog<Json>;
}

export type FlowStatus = 'IN_PROGRESS' | 'SUCCESS' | 'FAILED' | 'EXPIRED' | 'CANCELED';
export type FlowStep = 'DISCOVERING' | 'AWAITING_INPUT' | 'AWAITING_EXTERNAL_ACTION' | 'SUBMITTING' | 'COMPLETED';

export interface DiscoveredField {
  name: string;
  type: 'text' | 'email' | 'password' | 'tel' | 'number' | 'url' | 'code' | 'totp';
  label: string;
  selector: string;
  placeholder?: string;
  required?: boolean;
}

export interface AuthFlowRecord {
  id: string;
  connectionId: string;
  type: 'LOGIN' | 'REAUTH';
  status: FlowStatus;
  step: FlowStep;
  handoffCode: string;
  codeUsed: boolean;
  expiresAt: string;
  expiresMs: number;
  hostedUrl: string;
  liveViewUrl: string;
  discoveredFields?: DiscoveredField[];
  ssoButtons?: Array<{ selector: string; provider: string; label: string }>;
  externalActionMessage?: string;
  ssoProvider?: string;
  submittedFields: string[];
  websiteError?: string;
  errorMessage?: string;
  errorCode?: string;
  saveCredentialAs?: string;
  /** Started through the deprecated /agents/auth/invocations API. */
  viaAgentApi: boolean;
}

export interface CredentialRecord {
  id: string;
  name: string;
  domain: string;
  values: Record<string, string>;
  totpSecret?: string;
  ssoProvider?: string;
  createdAt: string;
  updatedAt: string;
}

export interface CredentialProviderRecord {
  id: string;
  providerType: 'onepassword';
  name: string;
  token: string;
  enabled: boolean;
  priority: number;
  cacheTtlSeconds: number;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectLimits {
  max_concurrent_sessions?: number;
  max_concurrent_invocations?: number;
  max_pooled_sessions?: number;
}

export interface ProjectRecord {
  id: string;
  name: string;
  status: 'active' | 'archived';
  createdAt: string;
  updatedAt: string;
  limits: ProjectLimits;
}

export interface ApiKeyRecord {
  id: string;
  name: string;
  key: string;
  createdAt: string;
  expiresAt: string | null;
  projectId: string | null;
}
