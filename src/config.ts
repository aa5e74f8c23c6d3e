/**
 * Flags and environment become one validated Config. Every flag has an environment variable; flags win.
 * Errors name the flag or variable and say how to fix it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { selfCommand } from './invocation.js';
import { LOG_LEVELS } from './log.js';

export const DEFAULT_BASE_URL = 'https://api.onkernel.com';

/** A comma-separated list from a flag or variable, or a list already (makeConfig, embedding). */
const csv = z.union([
  z.array(z.string()),
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string())),
]);

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no', '']).transform((v) => ['true', '1', 'yes'].includes(v)),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ConfigSchema = z.object({
  apiKey: z.string().min(1).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).default(DEFAULT_BASE_URL),
  simulate: bool.default(false),
  /** Seed of the simulator's ids: fixed for reproducible runs; by default a new one each run. */
  simulatorSeed: int(1, 0xffff_ffff).optional(),
  transport: z.enum(['stdio', 'http']).default('stdio'),
  host: z.string().min(1).default('127.0.0.1'),
  port: int(0, 65535).default(3333),
  /** HTTP auth: `token` (clients send KERNEL_MCP_HTTP_TOKEN), `passthrough` (clients send their own Kernel key), `none` (loopback only). */
  auth: z.enum(['token', 'passthrough', 'oauth', 'none']).optional(),
  httpToken: z.string().min(16, 'must be at least 16 characters').optional(),
  /** --auth oauth: an external authorization server (OIDC issuer URL); absent: the built-in one. */
  oauthIssuer: z.url({ protocol: /^https?$/ }).optional(),
  /** --auth oauth (built in): signs cookies and CSRF tokens, encrypts the Kernel keys people bring. */
  oauthSecret: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  /** Lifetime of the built-in authorization server's access tokens (refresh tokens renew them). */
  oauthTokenTtlS: int(5, 86_400).default(600),
  /** The URL clients reach this server at (OAuth issuer and resource); default http://host:port. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** TLS terminates in front of this server (a proxy serves https): allows an http:// --public-url elsewhere than loopback. */
  tlsTerminated: bool.default(false),
  allowedHosts: csv.optional(),
  allowedOrigins: csv.optional(),
  timeoutMs: int(1000, 600_000).default(60_000),
  maxRetries: int(0, 10).default(2),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  outputDir: z.string().min(1).default(join(tmpdir(), 'kernel-mcp')),
  includeDeprecated: bool.default(false),
  toolsets: csv.optional(),
  tools: csv.optional(),
  excludeTools: csv.optional(),
  readOnly: bool.default(false),
  dynamic: bool.default(false),
  /** Code mode: one sandboxed code tool (kernel_execute) plus search and describe, instead of a tool per operation. */
  codeMode: bool.default(false),
  /** The cap on any one result, in tokens (about 4 characters each). */
  maxResultTokens: int(1000, 4_000_000).default(20_000),
  /** Binary answers up to this size are embedded in the result; larger ones are written to outputDir. */
  inlineBinaryBytes: int(0, 50 * 1024 * 1024).default(1024 * 1024),
  proxyPoolUrl: z.url({ protocol: /^https?$/ }).optional(),
  streamBufferEvents: int(10, 1_000_000).default(1000),
  streamBufferBytes: int(1024, 512 * 1024 * 1024).default(4 * 1024 * 1024),
  streamIdleMs: int(1000, 3_600_000).default(120_000),
  /** Legacy (2025-era) HTTP sessions: the most at once, and how long an idle one lives. */
  maxSessions: int(1, 100_000).default(1000),
  sessionIdleMs: int(1000, 86_400_000).default(30 * 60_000),
  maxBodyBytes: int(1024, 100 * 1024 * 1024).default(8 * 1024 * 1024),
  maxConcurrentRequests: int(1, 100_000).default(256),
  /** HTTP: after SIGTERM, keep listening this long (503 to new requests) so a load balancer drains the instance. */
  shutdownDrainMs: int(0, 600_000).default(10_000),
  /** HTTP: give memory back once no request has come for this long (0: never); src/http/memory.ts. */
  idleReleaseMs: int(0, 86_400_000).default(30_000),
  /** Serve no MCP App views (ui:// resources, their tool links and app-only tools). */
  noApps: bool.default(false),
  /** Origins the browser view may frame (the live view); default Kernel's, or the simulator's with --simulate. */
  liveViewOrigins: csv.optional(),
  /** Serve no skills (skill:// resources and the Skills extension); prompts stay. */
  noSkills: bool.default(false),
  /** HTTP: share change notifications between instances through this Redis (redis:// or rediss://). */
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  /** HTTP streams (2025 GET streams, listen streams): the most open at once, per passthrough key, and their lifetime. */
  maxOpenStreams: int(1, 100_000).default(1024),
  maxClientStreams: int(1, 100_000).default(64),
  streamMaxMs: int(1000, 86_400_000).default(30 * 60_000),
  /** The most 2025 sessions one passthrough key may hold. */
  maxClientSessions: int(1, 100_000).default(100),
  /** Upstream answers: the largest read into memory, the largest saved to a file, the largest SSE event. */
  maxAnswerBytes: int(1024, 2 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  maxDownloadBytes: int(1024, 1024 * 1024 * 1024 * 1024).default(4 * 1024 * 1024 * 1024),
  maxEventBytes: int(1024, 256 * 1024 * 1024).default(1024 * 1024),
  /** Screenshots are scaled so their longest edge is at most this many pixels (0: never scaled). */
  screenshotMaxEdge: int(0, 16_384).default(1568),
  /** Screen coordinates in tool arguments: pixels of the returned screenshots (scaled), or raw viewport pixels. */
  coordinates: z.enum(['screenshot', 'viewport']).default('screenshot'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Each option: its flag, its environment variable, and whether the flag takes a value. */
const OPTIONS: Record<keyof Config, { flag: string; env: string; boolean?: boolean; help: string }> = {
  apiKey: { flag: 'api-key', env: 'KERNEL_API_KEY', help: 'Kernel API key (prefer the environment variable)' },
  baseUrl: { flag: 'base-url', env: 'KERNEL_BASE_URL', help: `Kernel API base URL (default ${DEFAULT_BASE_URL})` },
  simulate: { flag: 'simulate', env: 'KERNEL_MCP_SIMULATE', boolean: true, help: 'run against the built-in simulator' },
  simulatorSeed: {
    flag: 'simulator-seed',
    env: 'KERNEL_MCP_SIMULATOR_SEED',
    help: "the simulator's id seed (default: new each run)",
  },
  transport: { flag: 'transport', env: 'KERNEL_MCP_TRANSPORT', help: 'stdio (default) or http' },
  host: { flag: 'host', env: 'KERNEL_MCP_HOST', help: 'HTTP bind address (default 127.0.0.1)' },
  port: { flag: 'port', env: 'KERNEL_MCP_PORT', help: 'HTTP port (default 3333)' },
  auth: { flag: 'auth', env: 'KERNEL_MCP_AUTH', help: 'HTTP auth: token, passthrough, oauth or none' },
  httpToken: { flag: 'http-token', env: 'KERNEL_MCP_HTTP_TOKEN', help: 'bearer token HTTP clients must send' },
  oauthIssuer: { flag: 'oauth-issuer', env: 'KERNEL_MCP_OAUTH_ISSUER', help: 'external OAuth issuer (--auth oauth)' },
  oauthSecret: {
    flag: 'oauth-secret',
    env: 'KERNEL_MCP_OAUTH_SECRET',
    help: 'built-in OAuth server secret (prefer the variable)',
  },
  oauthTokenTtlS: {
    flag: 'oauth-token-ttl-seconds',
    env: 'KERNEL_MCP_OAUTH_TOKEN_TTL_SECONDS',
    help: 'OAuth access token lifetime (default 600)',
  },
  publicUrl: { flag: 'public-url', env: 'KERNEL_MCP_PUBLIC_URL', help: 'URL clients reach this server at' },
  tlsTerminated: {
    flag: 'tls-terminated',
    env: 'KERNEL_MCP_TLS_TERMINATED',
    boolean: true,
    help: 'a proxy in front serves https',
  },
  allowedHosts: { flag: 'allowed-hosts', env: 'KERNEL_MCP_ALLOWED_HOSTS', help: 'Host header allow-list' },
  allowedOrigins: { flag: 'allowed-origins', env: 'KERNEL_MCP_ALLOWED_ORIGINS', help: 'Origin allow-list' },
  timeoutMs: { flag: 'timeout-ms', env: 'KERNEL_TIMEOUT_MS', help: 'API request timeout (default 60000)' },
  maxRetries: { flag: 'max-retries', env: 'KERNEL_MAX_RETRIES', help: 'retries for idempotent requests (default 2)' },
  logLevel: { flag: 'log-level', env: 'KERNEL_MCP_LOG_LEVEL', help: 'debug, info, warn, error or silent' },
  outputDir: { flag: 'output-dir', env: 'KERNEL_MCP_OUTPUT_DIR', help: 'where large binary answers are written' },
  includeDeprecated: {
    flag: 'include-deprecated',
    env: 'KERNEL_MCP_INCLUDE_DEPRECATED',
    boolean: true,
    help: 'also list deprecated operations',
  },
  toolsets: { flag: 'toolsets', env: 'KERNEL_MCP_TOOLSETS', help: 'comma-separated toolsets, or all' },
  tools: { flag: 'tools', env: 'KERNEL_MCP_TOOLS', help: 'comma-separated tool names to add' },
  excludeTools: { flag: 'exclude-tools', env: 'KERNEL_MCP_EXCLUDE_TOOLS', help: 'comma-separated tool names to drop' },
  readOnly: { flag: 'read-only', env: 'KERNEL_MCP_READ_ONLY', boolean: true, help: 'list read-only tools only' },
  dynamic: { flag: 'dynamic', env: 'KERNEL_MCP_DYNAMIC', boolean: true, help: 'three meta-tools instead of many' },
  codeMode: {
    flag: 'code-mode',
    env: 'KERNEL_MCP_CODE_MODE',
    boolean: true,
    help: 'one sandboxed code tool (kernel_execute) plus search',
  },
  maxResultTokens: { flag: 'max-result-tokens', env: 'KERNEL_MCP_MAX_RESULT_TOKENS', help: 'cap per result' },
  inlineBinaryBytes: {
    flag: 'inline-binary-bytes',
    env: 'KERNEL_MCP_INLINE_BINARY_BYTES',
    help: 'largest binary answer embedded inline',
  },
  proxyPoolUrl: { flag: 'proxy-pool-url', env: 'KERNEL_PROXY_POOL_URL', help: 'proxy-pool sessions service URL' },
  streamBufferEvents: {
    flag: 'stream-buffer-events',
    env: 'KERNEL_MCP_STREAM_BUFFER_EVENTS',
    help: 'events kept per stream',
  },
  streamBufferBytes: {
    flag: 'stream-buffer-bytes',
    env: 'KERNEL_MCP_STREAM_BUFFER_BYTES',
    help: 'bytes kept per stream',
  },
  streamIdleMs: { flag: 'stream-idle-ms', env: 'KERNEL_MCP_STREAM_IDLE_MS', help: 'close an unread stream after' },
  maxSessions: { flag: 'max-sessions', env: 'KERNEL_MCP_MAX_SESSIONS', help: 'most legacy HTTP sessions at once' },
  sessionIdleMs: { flag: 'session-idle-ms', env: 'KERNEL_MCP_SESSION_IDLE_MS', help: 'idle legacy session lifetime' },
  maxBodyBytes: { flag: 'max-body-bytes', env: 'KERNEL_MCP_MAX_BODY_BYTES', help: 'largest HTTP request body' },
  maxConcurrentRequests: {
    flag: 'max-concurrent-requests',
    env: 'KERNEL_MCP_MAX_CONCURRENT_REQUESTS',
    help: 'HTTP requests served at once',
  },
  shutdownDrainMs: {
    flag: 'shutdown-drain-ms',
    env: 'KERNEL_MCP_SHUTDOWN_DRAIN_MS',
    help: 'HTTP: after SIGTERM, answer 503 this long before closing (default 10000)',
  },
  idleReleaseMs: {
    flag: 'idle-release-ms',
    env: 'KERNEL_MCP_IDLE_RELEASE_MS',
    help: 'HTTP: give memory back after this long without requests (0: never; default 30000)',
  },
  noApps: { flag: 'no-apps', env: 'KERNEL_MCP_NO_APPS', boolean: true, help: 'serve no MCP App views' },
  liveViewOrigins: {
    flag: 'live-view-origins',
    env: 'KERNEL_MCP_LIVE_VIEW_ORIGINS',
    help: 'origins the browser view may frame',
  },
  noSkills: { flag: 'no-skills', env: 'KERNEL_MCP_NO_SKILLS', boolean: true, help: 'serve no skill:// skills' },
  redisUrl: { flag: 'redis-url', env: 'KERNEL_MCP_REDIS_URL', help: 'share state between HTTP instances (Redis)' },
  maxOpenStreams: {
    flag: 'max-open-streams',
    env: 'KERNEL_MCP_MAX_OPEN_STREAMS',
    help: 'HTTP streams (GET, listen) open at once',
  },
  maxClientStreams: {
    flag: 'max-client-streams',
    env: 'KERNEL_MCP_MAX_CLIENT_STREAMS',
    help: 'open HTTP streams per passthrough key',
  },
  streamMaxMs: { flag: 'stream-max-ms', env: 'KERNEL_MCP_STREAM_MAX_MS', help: 'an HTTP stream is ended after this' },
  maxClientSessions: {
    flag: 'max-client-sessions',
    env: 'KERNEL_MCP_MAX_CLIENT_SESSIONS',
    help: '2025 sessions per passthrough key',
  },
  maxAnswerBytes: {
    flag: 'max-answer-bytes',
    env: 'KERNEL_MCP_MAX_ANSWER_BYTES',
    help: 'largest API answer read into memory (default 64 MiB)',
  },
  maxDownloadBytes: {
    flag: 'max-download-bytes',
    env: 'KERNEL_MCP_MAX_DOWNLOAD_BYTES',
    help: 'largest API answer saved to --output-dir (default 4 GiB)',
  },
  maxEventBytes: {
    flag: 'max-event-bytes',
    env: 'KERNEL_MCP_MAX_EVENT_BYTES',
    help: 'largest event of an API event stream (default 1 MiB)',
  },
  screenshotMaxEdge: {
    flag: 'screenshot-max-edge',
    env: 'KERNEL_MCP_SCREENSHOT_MAX_EDGE',
    help: 'longest screenshot edge in px (default 1568; 0: unscaled)',
  },
  coordinates: {
    flag: 'coordinates',
    env: 'KERNEL_MCP_COORDINATES',
    help: 'screenshot (default: pixels of returned screenshots) or viewport',
  },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function usage(): string {
  const lines = [
    'Usage: kernel-mcp [options]            serve MCP (stdio by default)',
    '       kernel-mcp simulator [--port 4010] [--host 127.0.0.1] [--api-key KEY] [--simulator-seed N]',
    '                                       run the Kernel API simulator alone',
    '       kernel-mcp skills export DIR        write the shipped skills to DIR (for file-based skill loaders)',
    '       kernel-mcp config claude-desktop|claude-code|cursor [options]',
    '                                       print a ready-to-paste stdio config that starts this kernel-mcp',
    '',
    'Options (each also an environment variable):',
  ];
  for (const o of Object.values(OPTIONS)) {
    lines.push(`  --${o.flag}${o.boolean ? '' : ' <value>'}`.padEnd(36) + `${o.env.padEnd(34)} ${o.help}`);
  }
  lines.push('  --help'.padEnd(36) + ''.padEnd(34) + ' this text');
  lines.push('  --version'.padEnd(36) + ''.padEnd(34) + ' print the version and exit');
  return lines.join('\n');
}

function describeIssue(key: string, message: string): string {
  const o = OPTIONS[key as keyof Config];
  return o ? `--${o.flag} (${o.env}): ${message}` : `${key}: ${message}`;
}

/**
 * A value that says nothing: empty, or an MCP bundle placeholder the client left unsubstituted (Claude Desktop passes
 * `${user_config.toolsets}` literally for an option the user did not set). Such an option is unset.
 */
export function isUnsetValue(value: unknown): boolean {
  return typeof value === 'string' && (value.trim() === '' || /^\$\{user_config\.[^}]*\}$/.test(value.trim()));
}

/** Parses argv (without node and script) and env into a Config; throws ConfigError naming the bad option. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const o of Object.values(OPTIONS)) options[o.flag] = { type: o.boolean ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (\`${selfCommand()} --help\` lists every option)`);
  }
  const raw: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(OPTIONS)) {
    const fromFlag = parsed.values[o.flag];
    const fromEnv = env[o.env];
    if (fromFlag !== undefined && !isUnsetValue(fromFlag)) raw[key] = fromFlag;
    else if (fromEnv !== undefined && !isUnsetValue(fromEnv)) raw[key] = fromEnv;
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => describeIssue(String(i.path[0] ?? ''), i.message));
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  if (result.data.dynamic && result.data.codeMode) {
    throw new ConfigError(
      '--dynamic (KERNEL_MCP_DYNAMIC) and --code-mode (KERNEL_MCP_CODE_MODE) each replace the tool list: choose one',
    );
  }
  return result.data;
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function wantsVersion(argv: string[]): boolean {
  return argv.includes('--version') || argv.includes('-v');
}

/** A Config for tests and embedding: defaults plus overrides, validated. */
export function makeConfig(overrides: Partial<Config> = {}): Config {
  return ConfigSchema.parse(overrides);
}
