/**
 * THE ONE PLACE for what the spec cannot say about an operation: reviewed by hand, keyed by operationId.
 * `npm run generate` checks every entry against spec/kernel-openapi.yml (an unknown operation, field, parameter or
 * toolset fails generation, naming the entry) and emits it into the rows of src/generated/kernel-operations.gen.ts;
 * the server reads it from there. Nothing in src/ keeps a per-operation table of its own.
 */

/** Spec tag -> toolset. snake_case of the tag, except where the tag names a sub-area of browsers. */
export const TOOLSETS: Record<string, string> = {
  Browsers: 'browsers',
  'Browser Computer Controls': 'computer',
  'Browser Playwright': 'playwright',
  'Browser Filesystem': 'browser_filesystem',
  'Browser Processes': 'processes',
  'Browser Logs': 'logs',
  'Browser Telemetry': 'telemetry',
  'Browser Replays': 'replays',
  Profiles: 'profiles',
  Extensions: 'extensions',
  Proxies: 'proxies',
  'Browser Pools': 'browser_pools',
  Deployments: 'deployments',
  Apps: 'apps',
  Invocations: 'invocations',
  'Auth Connections': 'auth_connections',
  'Managed Auth': 'managed_auth',
  Credentials: 'credentials',
  'Credential Providers': 'credential_providers',
  Projects: 'projects',
  'API Keys': 'api_keys',
};

/**
 * The default set is for browser automation: create and control browsers, screenshots and input, Playwright, files,
 * processes, telemetry (console errors, failed requests), replays and profiles. Operations marked `notDefault` are left out of it (see OperationPolicy).
 */
export const DEFAULT_TOOLSETS = [
  'browsers',
  'computer',
  'playwright',
  'telemetry',
  'browser_filesystem',
  'processes',
  'replays',
  'profiles',
];

/** What a stream resource's `{id}` names: the list operation that finds live ones, for listing and completion. */
export interface ParentPolicy {
  /** The GET operation that lists them (a JSON array). */
  list: string;
  /** The field of a listed item that holds the id. */
  idField: string;
  /** The word for one, in resource titles. */
  what: string;
  /**
   * Which listed items are live: `query` asks the list operation once per value of that query parameter;
   * `field` keeps the items whose field has one of the values. Absent: every listed item is live.
   */
  live?: { query: string; values: string[] } | { field: string; values: string[] };
}

export const PARENTS: Record<string, ParentPolicy> = {
  browsers: { list: 'getBrowsers', idField: 'session_id', what: 'browser' },
  invocations: {
    list: 'getInvocations',
    idField: 'id',
    what: 'invocation',
    live: { query: 'status', values: ['running', 'queued'] },
  },
  deployments: {
    list: 'getDeployments',
    idField: 'id',
    what: 'deployment',
    live: { field: 'status', values: ['queued', 'in_progress', 'running'] },
  },
  auth_connections: {
    list: 'getAuthConnections',
    idField: 'id',
    what: 'auth connection',
    live: { field: 'flow_status', values: ['IN_PROGRESS'] },
  },
};

/** An event-stream operation shown as a `kernel://` resource (src/resources/streams.ts serves it). */
export interface StreamPolicy {
  /** Registration name (unique). */
  resource: string;
  /**
   * The URI template: its `{variables}` are the operation's path parameters, its `{?a,b}` query part names some of
   * the operation's query parameters.
   */
  uri: string;
  title: string;
  description: string;
  /** `envelope`: the upstream data is already a `{seq, event}` envelope, shown as it is; `data`: shown as `{seq, data}`. */
  events: 'envelope' | 'data';
  /** What `{id}` names (a key of PARENTS). */
  parent: string;
  /** Whether resources/list lists one resource per live parent (only where the URI needs nothing but `{id}`). */
  listable: boolean;
  /**
   * A filter the stream tool offers (src/tools/stream-read.ts): `types`, event types or categories (`types`
   * argument; an empty wait says when telemetry is off); `output`, stdout or stderr (`stream` argument).
   */
  filter?: 'types' | 'output';
}

export interface OperationPolicy {
  /** The tool name, where the spec has no JavaScript code sample to take it from (or its name is taken). */
  name?: string;
  /** A reviewed description, where the spec's does not say what an agent needs to pick the tool. */
  description?: string;
  /** A POST that only reads state. */
  readOnly?: true;
  /** A non-DELETE that destroys or ends something (kills, stops, flushes, deletes by PUT). */
  destructive?: true;
  /**
   * Request fields (dotted paths into the body) that hold write-only secrets: their values (every string under them,
   * for objects) are registered with the redactor before the request is sent.
   */
  secrets?: string[];
  /** Fields named like a secret elsewhere that are not secret here. */
  notSecret?: string[];
  /** A success creates or ends a live resource that resources/list shows: announce resources/list_changed. */
  listChanging?: true;
  /** In a default toolset but left out of the default set, to keep it within the context budget (say why). */
  notDefault?: true;
  /** The operation is an event stream shown as a resource. */
  stream?: StreamPolicy;
  /** The MCP App view (src/apps/) a host shows next to this tool's result: the browser, or a login flow. */
  view?: 'browser' | 'login';
  /**
   * Screen space (src/tools/screen.ts, `--coordinates screenshot`): `coordinates`, its arguments hold screen
   * coordinates (scaled from the screenshot to the viewport); `position`, it answers one (scaled back); `viewport`,
   * it changes or ends a browser's viewport (the remembered one is forgotten).
   */
  screen?: 'coordinates' | 'position' | 'viewport';
  /**
   * How the answer is shaped beyond its media type (src/tools/operations.ts): `screenshot`, scaled and re-encoded
   * with the screenshot arguments (src/tools/screen.ts); `exec`, base64 output decoded to text; `file`, the bytes of
   * a browser file, read back as `kernel://browsers/{id}/files/{+path}`.
   */
  shape?: 'screenshot' | 'exec' | 'file';
}

/**
 * Field descriptions that replace the spec's, keyed `Schema.property` (or `Schema` for the schema's own description)
 * under `components.schemas`. For the long ones the tool listing repeats: a shared schema is inlined into every tool
 * that takes it (the browser settings into browsers_create, browser_pools_create and _update; the pointer actions into
 * their tools and browsers_computer_batch). Each keeps what an agent needs to call right: what the value is, its unit,
 * what it must match, and the rules (what conflicts, what is ignored, what omitting means); words the field's name,
 * its parent or its schema (enum, bounds, default) already say go.
 */
export const FIELD_DESCRIPTIONS: Record<string, string> = {
  // Browser settings (browsers_create, browser_pools_create, browser_pools_update; the profile in browsers_update too).
  BrowserProfile: 'Profile to load, by id or name (it must exist).',
  'BrowserProfile.id': 'Profile ID.',
  'BrowserProfile.name': 'Profile name (instead of id).',
  'BrowserProfile.save_changes': "Save the session's changes back to the profile when it ends.",
  BrowserExtension: 'An uploaded extension, by id or name.',
  'BrowserExtension.id': 'Extension ID.',
  'BrowserExtension.name': 'Extension name (instead of id).',
  'BrowserRequest.extensions': 'Extensions to load into the browser.',
  'BrowserPoolRequest.extensions': 'Extensions to load into the browsers.',
  'BrowserRequest.stealth': 'Stealth mode, to reduce detection by anti-bot mechanisms.',
  'BrowserPoolRequest.stealth': 'Stealth mode, to reduce detection by anti-bot mechanisms.',
  'BrowserRequest.headless': 'Use a headless image (no VNC/GUI).',
  'BrowserPoolRequest.headless': 'Use a headless image (no VNC/GUI).',
  'BrowserRequest.kiosk_mode': 'Kiosk mode: no address bar or tabs in live view.',
  'BrowserPoolRequest.kiosk_mode': 'Kiosk mode: no address bar or tabs in live view.',
  'BrowserRequest.proxy_id': 'ID of one of your proxies to use.',
  'BrowserPoolRequest.proxy_id': 'ID of one of your proxies to use.',
  'BrowserRequest.chrome_policy': 'Chrome enterprise policies to set: policy name to a value of its expected type.',
  'BrowserPoolRequest.chrome_policy': 'Chrome enterprise policies to set: policy name to a value of its expected type.',
  'BrowserPoolRequest.size':
    "Browsers to keep in the pool; all your pools' sizes together cannot exceed your pooled sessions limit.",
  'BrowserViewport.width': 'In pixels.',
  'BrowserViewport.height': 'In pixels.',
  'BrowserViewport.refresh_rate': 'In Hz.',
  // Telemetry settings (browsers_create, browsers_update): the spec's defaults were cut off by the nested length.
  'BrowserTelemetryConfig.browser': 'Per-category flags (omitted: capture all).',
  'BrowserTelemetryCategoriesConfig.page': 'Navigation, DOMContentLoaded, load, layout shifts and LCP.',
  'BrowserTelemetryCategoriesConfig.interaction': 'Clicks, keydowns and scroll-settled events.',
  'BrowserTelemetryCategoriesConfig.network': 'HTTP requests and responses: URL, method, status, timing.',
  'BrowserTelemetryCategoryConfig.enabled': 'Defaults to true.',
  // Pointer actions (their own tools and browsers_computer_batch).
  'ClickMouseRequest.hold_keys': 'Modifier keys to hold.',
  'MoveMouseRequest.hold_keys': 'Modifier keys to hold.',
  'MoveMouseRequest.smooth': 'Human-like Bezier path instead of an instant move.',
  'MoveMouseRequest.duration_ms': 'Total time in ms when smooth (omit: from the distance).',
  'ScrollRequest.hold_keys': 'Modifier keys to hold.',
  'ScrollRequest.delta_x': 'Horizontal wheel units; positive scrolls right.',
  'ScrollRequest.delta_y': 'Vertical wheel units; positive scrolls down.',
  'DragMouseRequest.hold_keys': 'Modifier keys to hold.',
  'DragMouseRequest.smooth':
    'Bezier curves between waypoints; when true, steps_per_segment and step_delay_ms are ignored.',
  'DragMouseRequest.duration_ms': 'Total time in ms when smooth (omit: from the path length).',
  'DragMouseRequest.delay': 'Delay in ms after button down, before moving.',
  'DragMouseRequest.step_delay_ms': 'Delay in ms between steps (not the initial delay).',
  'DragMouseRequest.steps_per_segment': 'Move steps per path segment.',
  'PressKeyRequest.hold_keys': 'Modifier keys to hold.',
  // Auth connections (create, update, login) and proxies.
  ProxyRef: 'Proxy to use, by id or name.',
  'ManagedAuthCreateRequest.auto_reauth':
    'Re-authenticate when a health check finds the session expired; when false, it is marked `NEEDS_AUTH`.',
  'ManagedAuthUpdateRequest.auto_reauth':
    'Re-authenticate when a health check finds the session expired; when false, it is marked `NEEDS_AUTH`.',
  'ResidentialProxyConfig.city': 'City without spaces (e.g. `sanfrancisco`); requires `country`.',
  'MobileProxyConfig.city': 'City without spaces (e.g. `sanfrancisco`); requires `country`.',
};

/** Appended to every stream resource's description. */
export const AFTER_HINT =
  ' Append `?after=<seq>` (`&after=` after other parameters) to read only events after a sequence id.';

export const OPERATIONS: Record<string, OperationPolicy> = {
  // --- Browsers
  postBrowsers: {
    description:
      'Create a cloud browser session; `start_url` opens a page, `telemetry: {"browser": {}}` records console and network events (browsers_telemetry_stream). Returns session_id (the `id` of every browsers_* tool); end it with browsers_delete.',
    listChanging: true,
    view: 'browser',
  },
  getBrowsersById: { view: 'browser' },
  deleteBrowsersById: { listChanging: true, screen: 'viewport' },
  patchBrowsersById: {
    description: 'Change a running browser session: its proxy, profile, viewport or telemetry.',
    // Reconfiguring a running session; creating it configured is the common path.
    notDefault: true,
    screen: 'viewport',
  },
  uploadExtensionsToBrowser: { notDefault: true },
  executePlaywrightCode: {
    description:
      'Run Playwright TypeScript/JavaScript next to the browser with `page`, `context` and `browser` in scope; returns the value the code returns. The most direct way to navigate and act on pages; to read one, browsers_page_snapshot, or `return await page.locator(sel).ariaSnapshot()` for one region.',
    // Playwright source, not a one-time handoff code.
    notSecret: ['code'],
  },

  // --- Computer controls
  batchComputerAction: {
    description:
      'Run several computer actions (click, move, type, keys, scroll, drag, cursor, sleep) in order in one call; stops at the first error. Saves a round trip per action.',
    // One call per action (browsers_computer_click_mouse, _type_text, ...) does the same; the largest definition left out.
    notDefault: true,
    screen: 'coordinates',
  },
  takeScreenshot: {
    description:
      'Capture a screenshot of the browser (or a region), scaled to at most 1568 px (--screenshot-max-edge), as JPEG or PNG; the answer states the original size and the scale.',
    readOnly: true,
    view: 'browser',
    // The region to capture.
    screen: 'coordinates',
    shape: 'screenshot',
  },
  getMousePosition: { readOnly: true, notDefault: true, screen: 'position' },
  clickMouse: { screen: 'coordinates' },
  moveMouse: { screen: 'coordinates' },
  dragMouse: { screen: 'coordinates' },
  scroll: { screen: 'coordinates' },
  readClipboard: { readOnly: true },
  setCursor: { notDefault: true },

  // --- Filesystem, processes, replays, logs, telemetry
  deleteFile: { destructive: true },
  readFile: { shape: 'file' },
  deleteDirectory: { destructive: true },
  // Watching directories and permissions are for interactive shells, not browser automation.
  startFsWatch: { notDefault: true },
  stopFsWatch: { notDefault: true },
  setFilePermissions: { notDefault: true },
  // browsers_fs_upload sends any number of files; unpacking a zip in the VM is a convenience.
  uploadZip: { notDefault: true },
  streamFsEvents: {
    description: 'Read filesystem change events for a watch started with browsers_fs_watch_start.',
    notDefault: true,
    stream: {
      resource: 'browser-fs-watch-events',
      uri: 'kernel://browsers/{id}/fs/watches/{watch_id}/events',
      title: 'Filesystem watch events',
      description:
        'CREATE/WRITE/DELETE/RENAME events of a filesystem watch on the browser (started with browsers_fs_watch_start), as JSON lines of `{seq, data}`.',
      events: 'data',
      parent: 'browsers',
      listable: false,
    },
  },
  processExec: {
    description:
      "Run a command in the browser's VM and wait for it; returns status, exit_code and stdout/stderr as text. For long-running commands use browsers_process_spawn.",
    shape: 'exec',
  },
  processSpawn: {
    description:
      "Start a command in the browser's VM without waiting; returns a process_id for browsers_process_status, _stdin, _stdout_stream and _kill.",
  },
  processKill: { destructive: true },
  // Terminal control is for interactive shells.
  processStdin: { notDefault: true },
  processResize: { notDefault: true },
  processStdoutStream: {
    description: "Read a spawned process's output as it is written.",
    stream: {
      resource: 'browser-process-output',
      uri: 'kernel://browsers/{id}/processes/{process_id}/output',
      title: 'Process output',
      description:
        'stdout/stderr chunks (decoded text in `data`; base64 `data_b64` only when not UTF-8) and the exit event of a process spawned on the browser (browsers_process_spawn), as JSON lines of `{seq, data}`.',
      events: 'data',
      parent: 'browsers',
      listable: false,
      filter: 'output',
    },
  },
  stopBrowserReplayRecording: { destructive: true },
  logsStream: {
    description: 'Read log lines from the browser instance (a log file or a supervisor process) as they are written.',
    stream: {
      resource: 'browser-logs',
      uri: 'kernel://browsers/{id}/logs{?source,path,supervisor_process}',
      title: 'Browser log file',
      description:
        'Lines of a log file on the browser instance, followed live, as JSON lines of `{seq, data}`. `source=path&path=/abs/file` for a file, or `source=supervisor&supervisor_process=<name>` for a supervised process.',
      events: 'data',
      parent: 'browsers',
      listable: false,
    },
  },
  streamBrowserTelemetry: {
    description: "Read a browser session's telemetry events (console, page, interaction, network).",
    stream: {
      resource: 'browser-telemetry',
      uri: 'kernel://browsers/{id}/telemetry',
      title: 'Browser telemetry',
      description:
        'Live telemetry events of a browser session (navigation, console, network, ... when the session was created with telemetry enabled), as JSON lines of `{seq, event}` envelopes. Subscribe to be told when new events arrive.',
      events: 'envelope',
      parent: 'browsers',
      listable: true,
      filter: 'types',
    },
  },

  // --- Profiles
  downloadProfileByIdOrName: { notDefault: true },

  // --- Browser pools: every write creates, hands out, takes back or ends pooled browsers.
  postBrowserPools: { listChanging: true },
  updateBrowserPoolsByIdOrName: { listChanging: true },
  deleteBrowserPoolsByIdOrName: { listChanging: true },
  acquireFromBrowserPoolByIdOrName: { listChanging: true },
  releaseToBrowserPoolByIdOrName: { listChanging: true },
  flushBrowserPoolByIdOrName: { destructive: true, listChanging: true },

  // --- Invocations and deployments
  postInvocations: { listChanging: true },
  patchInvocationsById: { listChanging: true },
  deleteInvocationsBrowsersById: { listChanging: true },
  getInvocationsEventsById: {
    description: "Read an invocation's logs and status updates until it reaches a terminal state.",
    stream: {
      resource: 'invocation-events',
      uri: 'kernel://invocations/{id}/events',
      title: 'Invocation events',
      description: 'Logs and state changes of an action invocation until it finishes, as JSON lines of `{seq, data}`.',
      events: 'data',
      parent: 'invocations',
      listable: true,
    },
  },
  // env_vars are not write-only (the API answers them, on deployments and app versions), so they are not registered:
  // they come back as sent, except a value this process already holds as a secret (the source token, the API key).
  postDeployments: { secrets: ['source.auth.token'], listChanging: true },
  deleteDeploymentsById: { listChanging: true },
  getDeploymentsEventsById: {
    description: "Read a deployment's logs and status updates until it reaches a terminal state.",
    stream: {
      resource: 'deployment-events',
      uri: 'kernel://deployments/{id}/events',
      title: 'Deployment events',
      description:
        'Build logs and state changes of an app deployment until it finishes, as JSON lines of `{seq, data}`.',
      events: 'data',
      parent: 'deployments',
      listable: true,
    },
  },

  // --- Managed auth: starting, answering or deleting a login flow changes the live login flows.
  postAuthConnectionsLogin: { listChanging: true, view: 'login' },
  postAuthConnectionsSubmit: { secrets: ['fields'], listChanging: true },
  deleteAuthConnectionsById: { listChanging: true },
  postAuthConnectionsExchange: { name: 'auth_connections_exchange', secrets: ['code'] },
  getAuthConnectionsEventsById: {
    description: "Read a login flow's state updates until it ends (SUCCESS, FAILED, EXPIRED or CANCELED).",
    stream: {
      resource: 'auth-connection-events',
      uri: 'kernel://auth/connections/{id}/events',
      title: 'Managed auth login flow events',
      description:
        'State updates of the login flow of a managed auth connection until it succeeds, fails, expires or is canceled, as JSON lines of `{seq, data}`.',
      events: 'data',
      parent: 'auth_connections',
      listable: true,
    },
  },

  // --- Deprecated auth agents (the same auth connections, older routes; no code samples, so named here)
  postAgentsAuth: { name: 'agents_auth_create' },
  getAgentsAuth: { name: 'agents_auth_list' },
  postAgentsAuthInvocations: { name: 'agents_auth_invocations_create', listChanging: true },
  getAgentsAuthById: { name: 'agents_auth_retrieve' },
  deleteAgentsAuthById: { name: 'agents_auth_delete', listChanging: true },
  getAgentsAuthInvocationsInvocationId: { name: 'agents_auth_invocations_retrieve' },
  postAgentsAuthInvocationsExchange: { name: 'agents_auth_invocations_exchange', secrets: ['code'] },
  postAgentsAuthInvocationsSubmit: {
    name: 'agents_auth_invocations_submit',
    secrets: ['field_values'],
    listChanging: true,
  },

  // --- Secrets elsewhere
  postProxies: { secrets: ['config.password'] },
  postCredentials: { secrets: ['values', 'totp_secret'] },
  patchCredentialByIdOrName: { secrets: ['values', 'totp_secret'] },
  postCredentialProviders: { secrets: ['token'] },
  patchCredentialProvidersById: { secrets: ['token'] },

  // --- Deprecated /projects routes: `legacy_`, their natural names belong to the /org/projects tools.
  getProjects: { name: 'legacy_projects_list' },
  postProjects: { name: 'legacy_projects_create' },
  getProjectsId: { name: 'legacy_projects_retrieve' },
  patchProjectsId: { name: 'legacy_projects_update' },
  deleteProjectsId: { name: 'legacy_projects_delete' },
  getProjectLimits: { name: 'legacy_projects_limits_retrieve' },
  patchProjectLimits: { name: 'legacy_projects_limits_update' },

  // --- API keys (no code samples)
  listApiKeys: { name: 'api_keys_list' },
  postApiKeys: { name: 'api_keys_create' },
  getApiKeysById: { name: 'api_keys_retrieve' },
  patchApiKeysById: { name: 'api_keys_update' },
  deleteApiKeysById: { name: 'api_keys_delete' },
};

/**
 * Words agents use for things the operations name differently (kernel_search_operations). Each query word also
 * matches these (at a lower weight than a direct hit). Every word on the right must occur in some operation.
 */
export const SEARCH_SYNONYMS: Record<string, string[]> = {
  navigate: ['playwright', 'execute'],
  goto: ['playwright', 'execute'],
  go: ['playwright', 'execute'],
  visit: ['playwright', 'execute'],
  website: ['playwright', 'execute'],
  site: ['playwright', 'execute'],
  title: ['playwright'],
  text: ['playwright'],
  content: ['playwright'],
  console: ['telemetry'],
  error: ['telemetry'],
  errors: ['telemetry'],
  network: ['telemetry'],
  failed: ['telemetry'],
  failing: ['telemetry'],
  stop: ['delete'],
  kill: ['delete'],
  quit: ['delete'],
  save: ['create', 'profile'],
  wait: ['status', 'stream'],
  finish: ['status'],
  finished: ['status'],
  done: ['status'],
  running: ['list'],
  url: ['playwright', 'curl'],
  page: ['playwright'],
  selector: ['playwright'],
  scrape: ['playwright'],
  extract: ['playwright'],
  evaluate: ['playwright', 'execute'],
  javascript: ['playwright'],
  js: ['playwright'],
  typescript: ['playwright'],
  script: ['playwright'],
  code: ['playwright', 'execute'],
  dom: ['playwright'],
  screen: ['screenshot'],
  image: ['screenshot'],
  picture: ['screenshot'],
  snapshot: ['screenshot'],
  run: ['exec', 'execute', 'invoke'],
  command: ['process', 'exec'],
  shell: ['process', 'exec'],
  bash: ['process', 'exec'],
  terminal: ['process'],
  file: ['fs'],
  folder: ['fs', 'directory'],
  dir: ['directory'],
  record: ['replay'],
  recording: ['replay'],
  video: ['replay'],
  login: ['auth', 'credential'],
  signin: ['auth'],
  password: ['credential'],
  secret: ['credential'],
  totp: ['credential'],
  '2fa': ['totp'],
  cookie: ['profile'],
  cookies: ['profile'],
  persist: ['profile'],
  keyboard: ['key', 'type'],
  press: ['key'],
  typing: ['type'],
  click: ['click'],
  mouse: ['mouse'],
  new: ['create'],
  start: ['create'],
  launch: ['create'],
  open: ['create'],
  make: ['create'],
  close: ['delete'],
  end: ['delete'],
  terminate: ['delete', 'kill'],
  destroy: ['delete'],
  remove: ['delete'],
  get: ['retrieve'],
  show: ['retrieve', 'list'],
  find: ['list'],
  all: ['list'],
  http: ['curl'],
  request: ['curl'],
  fetch: ['curl'],
  log: ['logs', 'telemetry'],
  output: ['stdout'],
  watch: ['watch'],
  vm: ['process'],
};
