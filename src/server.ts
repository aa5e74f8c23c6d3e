/**
 * `createServer(config, deps, port)` builds one McpServer with its tools and resources. It knows nothing of
 * transports: stdio calls it once per connection, HTTP once per request or 2025 session, so it only registers what
 * was built once per process (tool definitions and their schemas live in module scope; clients and the stream hub
 * come in `deps`). The transport's notification port is how list changes and resource updates reach the client.
 */
import { McpServer, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { SkillCatalog } from '@modelcontextprotocol/server/ext/skills';
import { registerViews } from './apps/views.js';
import type { Config } from './config.js';
import type { KernelClient } from './kernel/client.js';
import type { Logger } from './log.js';
import { allTools } from './registry.js';
import type { StreamHub } from './resources/hub.js';
import type { NotificationPort } from './resources/notifications.js';
import { registerResources } from './resources/register.js';
import type { Selection } from './selection.js';
import { registerPrompts } from './skills/prompts.js';
import { registerTools, type ToolDefinition } from './tools/define.js';
import { operationsByName } from './tools/operations.js';
import { forCoordinateSpace } from './tools/screen.js';
import { unknownToolMessage } from './tools/suggest.js';
import { VERSION } from './version.js';

export interface ServerDeps {
  client: KernelClient;
  hub: StreamHub;
  logger: Logger;
  /** Local file paths may be read and written: true over stdio, never for HTTP clients. */
  localFiles: boolean;
  simulated: boolean;
  /** The tool selection, computed once per process (selectTools validates names). */
  selection: Selection;
  /** The shipped skills, loaded once per process; null with --no-skills. */
  skills: SkillCatalog | null;
}

/** What the CLI builds once per process; each stdio connection and each HTTP tenant adds its own stream hub. */
export type ProcessDeps = Omit<ServerDeps, 'hub'>;

/** The instructions by config, for an HTTP server that builds a server per request. */
const instructionsFor = new WeakMap<Config, Map<boolean, string>>();

function cachedInstructions(config: Config, simulated: boolean): string {
  let byMode = instructionsFor.get(config);
  if (!byMode) {
    byMode = new Map();
    instructionsFor.set(config, byMode);
  }
  let text = byMode.get(simulated);
  if (text === undefined) {
    text = instructions(config, simulated);
    byMode.set(simulated, text);
  }
  return text;
}

export function instructions(config: Config, simulated: boolean): string {
  const lines = config.codeMode
    ? [
        'Kernel cloud browsers, through code: kernel_execute runs JavaScript with `kernel`, the Kernel API as async functions (await kernel.browsers.create({...})); kernel_search_operations finds operations by words, kernel_describe_operation gives a TypeScript signature.',
        'Write one program per job: create the browser, do the work, return only what is needed, and delete the browser in `finally`.',
      ]
    : config.dynamic
      ? [
          'Kernel cloud browsers, behind three tools: kernel_search_operations finds an operation by words (e.g. "create browser", "screenshot"), kernel_describe_operation gives its input schema, kernel_call_operation runs it.',
          'Typical flow: browsers_create -> drive it (browsers_computer_*, browsers_playwright_execute, browsers_fs_*, browsers_process_*) -> browsers_delete.',
        ]
      : [
          'Kernel cloud browsers. Typical flow: browsers_create -> drive it (browsers_computer_*, browsers_playwright_execute, browsers_fs_*, browsers_process_*) -> browsers_delete.',
        ];
  lines.push(
    'browsers_create takes `start_url` (opens the page) and `telemetry: {"browser": {}}` (records console, network and page events; read them with browsers_telemetry_stream, e.g. `types: ["console_error"]`).',
    'Lists page with limit/offset and answer {items, has_more, next_offset}. Stream tools and kernel:// resources take a cursor (`after`) and return the next one; `until: "end"` waits for a stream to end.',
  );
  if (!config.noSkills) {
    lines.push(
      'How-to guides: the skill:// skills (browser automation, logins, debugging, deploying, proxies) and the kernel-concepts and debug-browser-session prompts.',
    );
  }
  if (simulated) {
    lines.unshift('SIMULATED: this server talks to the built-in Kernel API simulator, not the real Kernel API.');
  }
  return lines.join('\n');
}

/**
 * A successful call of an operation that creates or ends the live resources `resources/list` shows (browsers,
 * invocations, deployments, login flows: `listChanging` in scripts/policy.ts) announces
 * `notifications/resources/list_changed`, at most once per LIST_CHANGE_COALESCE_MS.
 */
const LIST_CHANGE_COALESCE_MS = 250;

function listChangeAnnouncer(port: NotificationPort, logger: Logger): (def: ToolDefinition) => void {
  let timer: NodeJS.Timeout | undefined;
  const announce = () => {
    timer = undefined;
    try {
      port.resourcesChanged();
    } catch (err) {
      logger.debug('resource list change not sent', { error: (err as Error).message });
    }
  };
  return (def) => {
    if (!operationsByName.get(def.name)?.listChanging || timer) return;
    timer = setTimeout(announce, LIST_CHANGE_COALESCE_MS);
    timer.unref();
  };
}

/**
 * What one request needs, when it is known before its server is built: the 2026-07-28 HTTP handler builds a server
 * for every request (the SDK's createMcpHandler asks its factory for a fresh instance each time). A `tools/call`
 * needs only the tool it calls; a `server/discover` (every new client's first request) only what the server
 * declares: its capabilities and instructions.
 */
export type RequestScope = { tool: string } | { discover: true };

/**
 * The scope of a parsed JSON-RPC body: a single `tools/call` names its tool, a `server/discover` needs no
 * registration; anything else needs everything.
 */
export function requestScope(body: unknown): RequestScope | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { method, params } = body as { method?: unknown; params?: { name?: unknown } };
  if (method === 'server/discover') return { discover: true };
  return method === 'tools/call' && typeof params?.name === 'string' ? { tool: params.name } : undefined;
}

const byName = new WeakMap<readonly ToolDefinition[], Map<string, ToolDefinition>>();

/** The selected tool of that name (the map is built once per selection). */
function selectedTool(tools: readonly ToolDefinition[], name: string): ToolDefinition | undefined {
  let m = byName.get(tools);
  if (!m) {
    m = new Map(tools.map((t) => [t.name, t]));
    byName.set(tools, m);
  }
  return m.get(name);
}

/** The capabilities a whole server declares, by deps: taken from one whole build per tenant, the first time. */
const declared = new WeakMap<ServerDeps, ReturnType<McpServer['server']['getCapabilities']>>();

/**
 * One McpServer with everything the selection offers; with a scope naming a selected tool, that tool alone (no
 * resources, prompts, views or skills, which a tools/call never touches). A tool not offered gets the whole server,
 * which answers it as usual. A `server/discover` scope gets no registration, only what the whole server declares.
 */
export function createServer(
  config: Config,
  deps: ServerDeps,
  port: NotificationPort,
  scope?: RequestScope,
): McpServer {
  const server = bareServer(config, deps);
  if (scope && 'discover' in scope) {
    let capabilities = declared.get(deps);
    if (!capabilities) {
      capabilities = createServer(config, deps, port).server.getCapabilities();
      declared.set(deps, capabilities);
    }
    server.server.registerCapabilities(capabilities);
    return server;
  }
  const only = scope && 'tool' in scope ? selectedTool(deps.selection.tools, scope.tool) : undefined;
  registerTools(
    server,
    forCoordinateSpace(only ? [only] : deps.selection.tools, config.coordinates),
    {
      client: deps.client,
      config,
      logger: deps.logger,
      hub: deps.hub,
      localFiles: deps.localFiles,
      viewports: new Map(),
    },
    listChangeAnnouncer(port, deps.logger),
  );
  if (only) return server;
  teachUnknownTools(
    server,
    deps.selection.tools.map((t) => t.name),
    allTools(config).map((t) => t.name),
  );
  registerResources(server, config, deps, port);
  registerViews(server, config);
  registerPrompts(server, deps);
  deps.skills?.attach(server);
  return server;
}

/** The server itself: identity, declared capabilities, instructions and cache hints, nothing registered. */
function bareServer(config: Config, deps: ServerDeps): McpServer {
  return new McpServer(
    { name: 'kernel-mcp', title: 'Kernel', version: VERSION },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { subscribe: true, listChanged: true },
        // The prompts are built from the shipped skills: their list never changes while the process runs.
        prompts: { listChanged: false },
      },
      instructions: cachedInstructions(config, deps.simulated),
      cacheHints: {
        'tools/list': { ttlMs: 300_000, cacheScope: 'private' },
        'resources/templates/list': { ttlMs: 300_000, cacheScope: 'private' },
        // The live resources (browsers, running invocations, ...) come and go.
        'resources/list': { ttlMs: 10_000, cacheScope: 'private' },
      },
      maxToolInputElements: 20_000,
    },
  );
}

type RawHandler = (request: { params?: { name?: unknown } }, ctx: unknown) => Promise<unknown>;

/**
 * An unknown tool name gets the SDK's bare "Tool x not found"; this puts the closest listed names (and, for a tool
 * this selection leaves out, how to enable it) in that error. The SDK keeps its handlers in a private map: when it
 * is not there, the SDK's own message stands.
 */
function teachUnknownTools(server: McpServer, listed: string[], known: string[]): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RawHandler> })._requestHandlers;
  const original = handlers instanceof Map ? handlers.get('tools/call') : undefined;
  if (!handlers || !original) return;
  const names = new Set(listed);
  handlers.set('tools/call', (request, ctx) => {
    const name = request.params?.name;
    if (typeof name === 'string' && !names.has(name)) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, unknownToolMessage(name, listed, known));
    }
    return original(request, ctx);
  });
}
