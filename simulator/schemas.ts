/**
 * Request body schemas, transcribed from spec/kernel-openapi.yml (components/schemas and inline bodies) in the
 * flattened form of validate.ts. test/simulator/request-schemas.test.ts diffs every one against the spec, so a
 * spec change that is not reflected here fails the tests.
 */
import { anyObj, arr, bool, int, obj, type Schema, str, strEnum, strMap } from './validate.js';

const NAME_PATTERN = '^[a-zA-Z0-9._-]{1,255}$';
const ABS_PATH = '^/.*';
const MODE_PATTERN = '^[0-7]{3,4}$';

// ---- Browsers ---------------------------------------------------------------------------------------------

const BrowserProfile = obj(
  {
    id: str(),
    name: str({ minLength: 1, maxLength: 255, pattern: NAME_PATTERN }),
    save_changes: bool(),
  },
  { oneOfRequired: [['id'], ['name']] },
);

const BrowserExtension = obj(
  { id: str(), name: str({ minLength: 1, maxLength: 255, pattern: NAME_PATTERN }) },
  { oneOfRequired: [['id'], ['name']] },
);

const viewportProps = {
  width: int({ minimum: 320, maximum: 7680 }),
  height: int({ minimum: 240, maximum: 4320 }),
  refresh_rate: int(),
};
const BrowserViewport = obj(viewportProps, { required: ['width', 'height'] });
const BrowserViewportUpdate = obj({ ...viewportProps, force: bool() }, { required: ['width', 'height'] });

const CategoryConfig = obj({ enabled: bool() });
const BrowserTelemetryConfig = obj({
  browser: obj({ console: CategoryConfig, page: CategoryConfig, interaction: CategoryConfig, network: CategoryConfig }),
});

export const BrowserRequest = obj({
  invocation_id: str(),
  stealth: bool(),
  headless: bool(),
  gpu: bool(),
  timeout_seconds: int({ minimum: 10, maximum: 259200 }),
  profile: BrowserProfile,
  extensions: arr(BrowserExtension, { maxItems: 20 }),
  proxy_id: str(),
  viewport: BrowserViewport,
  kiosk_mode: bool(),
  start_url: str(),
  chrome_policy: anyObj(),
  telemetry: { ...BrowserTelemetryConfig, nullable: true },
});

export const BrowserUpdateRequest = obj({
  proxy_id: str({ nullable: true }),
  disable_default_proxy: bool(),
  profile: BrowserProfile,
  viewport: BrowserViewportUpdate,
  telemetry: { ...BrowserTelemetryConfig, nullable: true },
});

export const ReplayStartRequest = obj({
  framerate: int({ minimum: 1, maximum: 60 }),
  max_duration_in_seconds: int({ minimum: 1 }),
});

// ---- Computer controls ------------------------------------------------------------------------------------

const keys = arr(str());

export const ClickMouseRequest = obj(
  {
    button: strEnum(['left', 'right', 'middle', 'back', 'forward']),
    click_type: strEnum(['down', 'up', 'click']),
    x: int(),
    y: int(),
    hold_keys: keys,
    num_clicks: int(),
  },
  { required: ['x', 'y'], additionalProperties: false },
);

export const MoveMouseRequest = obj(
  { x: int(), y: int(), hold_keys: keys, smooth: bool(), duration_ms: int({ minimum: 50, maximum: 5000 }) },
  { required: ['x', 'y'], additionalProperties: false },
);

export const WriteClipboardRequest = obj({ text: str() }, { required: ['text'], additionalProperties: false });

export const ScreenshotRequest = obj(
  {
    region: obj(
      { x: int(), y: int(), width: int(), height: int() },
      { required: ['x', 'y', 'width', 'height'], additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const TypeTextRequest = obj(
  { text: str(), delay: int({ minimum: 0 }) },
  { required: ['text'], additionalProperties: false },
);

export const PressKeyRequest = obj(
  { keys, duration: int({ minimum: 0 }), hold_keys: keys },
  { required: ['keys'], additionalProperties: false },
);

export const ScrollRequest = obj(
  { x: int(), y: int(), delta_x: int(), delta_y: int(), hold_keys: keys },
  { required: ['x', 'y'], additionalProperties: false },
);

export const DragMouseRequest = obj(
  {
    path: arr(arr(int(), { minItems: 2, maxItems: 2 }), { minItems: 2 }),
    button: strEnum(['left', 'middle', 'right']),
    delay: int({ minimum: 0 }),
    steps_per_segment: int({ minimum: 1 }),
    step_delay_ms: int({ minimum: 0 }),
    hold_keys: keys,
    smooth: bool(),
    duration_ms: int({ minimum: 50, maximum: 10000 }),
  },
  { required: ['path'], additionalProperties: false },
);

export const SetCursorRequest = obj({ hidden: bool() }, { required: ['hidden'], additionalProperties: false });

const SleepAction = obj(
  { duration_ms: int({ minimum: 0, maximum: 30000 }) },
  { required: ['duration_ms'], additionalProperties: false },
);

export const COMPUTER_ACTION_TYPES = [
  'click_mouse',
  'move_mouse',
  'type_text',
  'press_key',
  'scroll',
  'drag_mouse',
  'set_cursor',
  'sleep',
] as const;

export const BatchComputerActionRequest = obj(
  {
    actions: arr(
      obj(
        {
          type: strEnum(COMPUTER_ACTION_TYPES),
          click_mouse: ClickMouseRequest,
          move_mouse: MoveMouseRequest,
          type_text: TypeTextRequest,
          press_key: PressKeyRequest,
          scroll: ScrollRequest,
          drag_mouse: DragMouseRequest,
          set_cursor: SetCursorRequest,
          sleep: SleepAction,
        },
        { required: ['type'], additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { required: ['actions'], additionalProperties: false },
);

// ---- Filesystem -------------------------------------------------------------------------------------------

export const CreateDirectoryRequest = obj(
  { path: str({ pattern: ABS_PATH }), mode: str({ pattern: MODE_PATTERN }) },
  { required: ['path'], additionalProperties: false },
);

export const DeletePathRequest = obj(
  { path: str({ pattern: ABS_PATH }) },
  { required: ['path'], additionalProperties: false },
);

export const SetFilePermissionsRequest = obj(
  { path: str({ pattern: ABS_PATH }), owner: str(), group: str(), mode: str({ pattern: MODE_PATTERN }) },
  { required: ['path', 'mode'], additionalProperties: false },
);

export const MovePathRequest = obj(
  { src_path: str({ pattern: ABS_PATH }), dest_path: str({ pattern: ABS_PATH }) },
  { required: ['src_path', 'dest_path'], additionalProperties: false },
);

export const StartFsWatchRequest = obj(
  { path: str(), recursive: bool() },
  { required: ['path'], additionalProperties: false },
);

// ---- Processes, Playwright, curl ---------------------------------------------------------------------------

const execProps = {
  command: str(),
  args: arr(str()),
  cwd: str({ nullable: true, pattern: ABS_PATH }),
  env: strMap(),
  as_user: str({ nullable: true }),
  as_root: bool(),
  timeout_sec: int({ nullable: true }),
};

export const ProcessExecRequest = obj(execProps, { required: ['command'], additionalProperties: false });

/** allOf(ProcessExecRequest, {...}): the merged properties, keeping ProcessExecRequest's closed object. */
export const ProcessSpawnRequest = obj(
  {
    ...execProps,
    allocate_tty: bool(),
    rows: int({ minimum: 1, maximum: 65535 }),
    cols: int({ minimum: 1, maximum: 65535 }),
  },
  { required: ['command'], additionalProperties: false },
);

export const ProcessStdinRequest = obj({ data_b64: str() }, { required: ['data_b64'], additionalProperties: false });

export const ProcessKillRequest = obj(
  { signal: strEnum(['TERM', 'KILL', 'INT', 'HUP']) },
  { required: ['signal'], additionalProperties: false },
);

export const ProcessResizeRequest = obj(
  { rows: int({ minimum: 1, maximum: 65535 }), cols: int({ minimum: 1, maximum: 65535 }) },
  { required: ['rows', 'cols'], additionalProperties: false },
);

export const ExecutePlaywrightRequest = obj(
  { code: str(), timeout_sec: int({ minimum: 1, maximum: 300 }) },
  { required: ['code'], additionalProperties: false },
);

export const BrowserCurlRequest = obj(
  {
    url: str(),
    method: strEnum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']),
    headers: strMap(),
    body: str(),
    timeout_ms: int({ minimum: 1000, maximum: 60000 }),
    response_encoding: strEnum(['utf8', 'base64']),
  },
  { required: ['url'], additionalProperties: false },
);

// ---- Pools, profiles, proxies -----------------------------------------------------------------------------

const poolProps = {
  name: str({ pattern: NAME_PATTERN }),
  size: int({ minimum: 1 }),
  fill_rate_per_minute: int({ minimum: 0, maximum: 25 }),
  timeout_seconds: int({ minimum: 60, maximum: 86400 }),
  stealth: bool(),
  headless: bool(),
  profile: BrowserProfile,
  extensions: arr(BrowserExtension, { maxItems: 20 }),
  proxy_id: str(),
  viewport: BrowserViewport,
  kiosk_mode: bool(),
  chrome_policy: anyObj(),
  start_url: str(),
};

export const BrowserPoolRequest = obj(poolProps, { required: ['size'] });
export const BrowserPoolUpdateRequest = obj({ ...poolProps, discard_all_idle: bool() }, { required: ['size'] });
export const BrowserPoolDeleteRequest = obj({ force: bool() });
export const BrowserPoolAcquireRequest = obj({ acquire_timeout_seconds: int() });
export const BrowserPoolReleaseRequest = obj({ session_id: str(), reuse: bool() }, { required: ['session_id'] });

export const ProfileRequest = obj({ name: str() });

const ProxyRef = obj({ id: str(), name: str() }, { oneOfRequired: [['id'], ['name']] });

export const PROXY_TYPES = ['datacenter', 'isp', 'residential', 'mobile', 'custom'] as const;

/** `config` is validated per `type` by the proxies handler (the spec's oneOf cannot tell the variants apart). */
export const ProxyCreateRequest = obj(
  {
    name: str(),
    type: strEnum(PROXY_TYPES),
    protocol: strEnum(['http', 'https']),
    bypass_hosts: arr(str()),
    config: anyObj(),
  },
  { required: ['type'] },
);

export const ProxyCheckRequest = obj({ url: str() });

// prettier-ignore
const MOBILE_CARRIERS = [
  'a1',
  'aircel',
  'airtel',
  'att',
  'celcom',
  'chinamobile',
  'claro',
  'comcast',
  'cox',
  'digi',
  'dt',
  'docomo',
  'dtac',
  'etisalat',
  'idea',
  'kyivstar',
  'meo',
  'megafon',
  'mtn',
  'mtnza',
  'mts',
  'optus',
  'orange',
  'qwest',
  'reliance_jio',
  'robi',
  'sprint',
  'telefonica',
  'telstra',
  'tmobile',
  'tigo',
  'tim',
  'verizon',
  'vimpelcom',
  'vodacomza',
  'vodafone',
  'vivo',
  'zain',
  'vivabo',
  'telenormyanmar',
  'kcelljsc',
  'swisscom',
  'singtel',
  'asiacell',
  'windit',
  'cellc',
  'ooredoo',
  'drei',
  'umobile',
  'cableone',
  'proximus',
  'tele2',
  'mobitel',
  'o2',
  'bouygues',
  'free',
  'sfr',
  'digicel',
];

const countryCityProps = { country: str(), city: str(), state: str(), zip: str(), asn: str() };
export const PROXY_CONFIG_SCHEMAS: Record<(typeof PROXY_TYPES)[number], Schema> = {
  datacenter: obj({ country: str() }),
  isp: obj({ country: str() }),
  residential: obj({ ...countryCityProps, os: strEnum(['windows', 'macos', 'android']) }),
  mobile: obj({ ...countryCityProps, carrier: strEnum(MOBILE_CARRIERS) }),
  custom: obj({ host: str(), port: int(), username: str(), password: str() }, { required: ['host', 'port'] }),
};

// ---- Apps -------------------------------------------------------------------------------------------------

export const InvocationRequest = obj(
  {
    app_name: str(),
    version: str(),
    payload: str(),
    action_name: str(),
    async: bool(),
    async_timeout_seconds: int({ minimum: 10, maximum: 3600 }),
  },
  { required: ['app_name', 'version', 'action_name'] },
);

export const InvocationUpdateRequest = obj(
  { status: strEnum(['succeeded', 'failed']), output: str() },
  { required: ['status'] },
);

export const DeploymentSource = obj(
  {
    type: strEnum(['github']),
    url: str(),
    ref: str(),
    path: str(),
    entrypoint: str(),
    auth: obj({ method: strEnum(['github_token']), token: str() }, { required: ['method', 'token'] }),
  },
  { required: ['type', 'url', 'ref', 'entrypoint'] },
);

// ---- Managed auth -----------------------------------------------------------------------------------------

const CredentialReference = obj(
  { name: str(), provider: str(), path: str(), auto: bool() },
  { additionalProperties: false },
);

export const ManagedAuthCreateRequest = obj(
  {
    domain: str(),
    profile_name: str(),
    login_url: str({ format: 'uri' }),
    proxy: ProxyRef,
    credential: CredentialReference,
    allowed_domains: arr(str()),
    health_check_interval: int({ minimum: 300, maximum: 86400 }),
    health_checks: bool(),
    auto_reauth: bool(),
    save_credentials: bool(),
    record_session: bool(),
  },
  { required: ['domain', 'profile_name'], additionalProperties: false },
);

export const ManagedAuthUpdateRequest = obj(
  {
    login_url: str({ format: 'uri' }),
    credential: CredentialReference,
    allowed_domains: arr(str()),
    health_check_interval: int({ minimum: 300, maximum: 86400 }),
    health_checks: bool(),
    auto_reauth: bool(),
    save_credentials: bool(),
    record_session: bool(),
    proxy: ProxyRef,
  },
  { additionalProperties: false },
);

export const LoginRequest = obj({ proxy: ProxyRef, record_session: bool() }, { additionalProperties: false });

export const SubmitFieldsRequest = obj(
  {
    fields: strMap(),
    sso_button_selector: str(),
    sso_provider: str(),
    mfa_option_id: str(),
    sign_in_option_id: str(),
  },
  { additionalProperties: false },
);

export const ManagedAuthExchangeRequest = obj({ code: str() }, { required: ['code'], additionalProperties: false });

export const MFA_TYPES = ['sms', 'call', 'email', 'totp', 'push', 'password', 'switch'] as const;

export const AuthAgentCreateRequest = obj(
  {
    domain: str(),
    profile_name: str(),
    login_url: str({ format: 'uri' }),
    proxy: obj({ proxy_id: str() }, { additionalProperties: false }),
    credential_name: str(),
    allowed_domains: arr(str()),
  },
  { required: ['domain', 'profile_name'], additionalProperties: false },
);

export const AuthAgentInvocationCreateRequest = obj(
  { auth_agent_id: str(), save_credential_as: str() },
  { required: ['auth_agent_id'], additionalProperties: false },
);

/**
 * The spec puts the three alternatives' properties inside its oneOf branches next to a top-level
 * `additionalProperties: false`, which read literally forbids every property. The evident intent (exactly one
 * of the three fields, nothing else) is what is enforced here.
 */
export const AgentAuthSubmitRequest = obj(
  { field_values: strMap(), sso_button: str(), selected_mfa_type: strEnum(MFA_TYPES) },
  { additionalProperties: false, oneOfRequired: [['field_values'], ['sso_button'], ['selected_mfa_type']] },
);

// ---- Credentials ------------------------------------------------------------------------------------------

export const CreateCredentialRequest = obj(
  { name: str(), domain: str(), values: strMap(), totp_secret: str(), sso_provider: str() },
  { required: ['name', 'domain', 'values'], additionalProperties: false },
);

export const UpdateCredentialRequest = obj(
  { name: str(), values: strMap(), totp_secret: str(), sso_provider: str({ nullable: true }) },
  { additionalProperties: false },
);

export const CreateCredentialProviderRequest = obj(
  { provider_type: strEnum(['onepassword']), name: str(), token: str(), cache_ttl_seconds: int() },
  { required: ['provider_type', 'name', 'token'], additionalProperties: false },
);

export const UpdateCredentialProviderRequest = obj(
  { name: str(), enabled: bool(), priority: int(), token: str(), cache_ttl_seconds: int() },
  { additionalProperties: false },
);

// ---- Organisation -----------------------------------------------------------------------------------------

export const CreateProjectRequest = obj({ name: str() }, { required: ['name'] });
export const UpdateProjectRequest = obj({ name: str(), status: strEnum(['active', 'archived']) });
export const UpdateProjectLimitsRequest = obj({
  max_concurrent_sessions: int({ nullable: true }),
  max_concurrent_invocations: int({ nullable: true }),
  max_pooled_sessions: int({ nullable: true }),
});

export const CreateApiKeyRequest = obj(
  {
    name: str({ minLength: 1, maxLength: 255 }),
    days_to_expire: int({ minimum: 1, maximum: 3650, nullable: true }),
    project_id: str({ nullable: true }),
  },
  { required: ['name'] },
);

export const UpdateApiKeyRequest = obj({ name: str({ minLength: 1, maxLength: 255 }) }, { required: ['name'] });
