#!/usr/bin/env node
/**
 * The bin: flags and environment become one Config, then the chosen transport serves createServer.
 *   kernel-mcp [options]              MCP over stdio (default) or --transport http
 *   kernel-mcp simulator [...]        the Kernel API simulator on its own
 *   kernel-mcp config <client> [...]  a ready-to-paste stdio config for Claude Desktop, Claude Code or Cursor
 */
import { type Config, ConfigError, loadConfig, usage, wantsHelp, wantsVersion } from './config.js';
import { selfCommand } from './invocation.js';
import { KernelClient } from './kernel/client.js';
import { createLogger, type Logger } from './log.js';
import { StreamHub } from './resources/hub.js';
import { SelectionError, selectTools } from './selection.js';
import type { ProcessDeps, ServerDeps } from './server.js';
import { serveStdioConnection } from './stdio.js';
import { VERSION } from './version.js';

interface Running {
  /** `drain`: an HTTP server first drains (`--shutdown-drain-ms`); stdio ignores it. */
  close(options?: { drain?: boolean }): Promise<void>;
}

/**
 * A start-up failure: one line on stderr (what clients such as Claude Desktop show in their server log), then a
 * non-zero exit.
 */
function fail(message: string, code = 2): never {
  process.stderr.write(`kernel-mcp: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

/** The simulator's id seed: the one given (reproducible ids), or a new one each run. */
async function simulatorSeed(given: number | undefined): Promise<number> {
  if (given !== undefined) return given;
  // node:crypto loads here, not at every start (it is ~5 ms of a stdio start otherwise).
  const { randomInt } = await import('node:crypto');
  return randomInt(1, 0xffff_ffff);
}

/**
 * The product's one way into the simulator (a separate program shipped in the same package, see simulator/README.md):
 * loaded only for `--simulate` and `kernel-mcp simulator`, so it stays out of every other start.
 */
const loadSimulator = () => import('../simulator/index.js');

async function runSimulatorOnly(argv: string[]) {
  const { parseArgs } = await import('node:util');
  const usageLine = `Usage: ${selfCommand()} simulator [--port 4010] [--host 127.0.0.1] [--api-key KEY] [--simulator-seed N]`;
  let values: { port?: string; host?: string; 'api-key'?: string; 'simulator-seed'?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'api-key': { type: 'string' },
        'simulator-seed': { type: 'string' },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}. ${usageLine}`);
  }
  const port = Number(values.port ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a number from 0 to 65535');
  const seedArg = values['simulator-seed'];
  const seed = seedArg === undefined ? undefined : Number(seedArg);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 1 || seed > 0xffff_ffff)) {
    fail('--simulator-seed must be a whole number from 1 to 4294967295');
  }
  const host = values.host ?? '127.0.0.1';
  const { startSimulator } = await loadSimulator();
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator({
      host,
      port,
      seed: await simulatorSeed(seed),
      ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${port} on ${host} is already in use: pick another with --port`, 1);
    if (code === 'EACCES') fail(`not allowed to listen on ${host}:${port}: pick a port above 1023 with --port`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      fail(`cannot listen on ${host}: not an address of this machine (see --host)`, 1);
    }
    throw err;
  }
  process.stdout.write(`Kernel API simulator listening on ${sim.url}\n`);
  process.stdout.write(`Try: curl -H 'Authorization: Bearer any-key' ${sim.url}/browsers\n`);
  const stop = async () => {
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function runSkillsCommand(argv: string[]) {
  if (argv[0] !== 'export' || argv.length !== 2 || argv[1]?.startsWith('-')) {
    fail(`usage: ${selfCommand()} skills export DIR   (writes every shipped skill folder into DIR)`);
  }
  const { exportSkills } = await import('./skills/catalog.js');
  const names = await exportSkills(argv[1] as string);
  process.stdout.write(`Wrote ${names.length} skills to ${argv[1]}: ${names.join(', ')}\n`);
}

/** `kernel-mcp config <client> [options]`: a ready-to-paste stdio config on stdout, where it goes on stderr. */
async function printClientConfig(argv: string[]) {
  const { clientConfig } = await import('./client-config.js');
  try {
    const { text, hint } = clientConfig(argv, { self: selfCommand() });
    process.stdout.write(text);
    process.stderr.write(`${hint}\n`);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

function guardProcess(logger: Logger) {
  // Nothing a client sends may take the process down: log what escaped and keep serving.
  process.on('unhandledRejection', (reason) => logger.error('unhandled rejection', { reason: String(reason) }));
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { error: err.stack ?? err.message }));
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === 'simulator') return runSimulatorOnly(argv.slice(1));
  if (argv[0] === 'skills') return runSkillsCommand(argv.slice(1));
  if (argv[0] === 'config') return printClientConfig(argv.slice(1));
  if (wantsVersion(argv)) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (wantsHelp(argv)) {
    process.stdout.write(`kernel-mcp ${VERSION}\n${usage()}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const logger = createLogger(config.logLevel);
  guardProcess(logger);
  // The skills load (file reads and the SDK's SHA-256 of each file, off the main thread) while the rest starts.
  const skillsLoading = config.noSkills
    ? null
    : import('./skills/catalog.js').then(({ loadSkillCatalog }) => loadSkillCatalog());
  // Awaited below; a start that stops earlier must not report its failure as unhandled.
  skillsLoading?.catch(() => {});

  const closers: (() => Promise<void> | void)[] = [];
  let baseUrl = config.baseUrl;
  let apiKey = config.apiKey;
  if (config.simulate) {
    const { startSimulator } = await loadSimulator();
    apiKey = `sim_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const sim = await startSimulator({ apiKey, seed: await simulatorSeed(config.simulatorSeed) });
    baseUrl = sim.url;
    // The simulator also serves the proxy-pool sessions service.
    // ... and the live views of its browsers, which the browser view (MCP App) frames.
    config = {
      ...config,
      proxyPoolUrl: config.proxyPoolUrl ?? sim.url,
      liveViewOrigins: config.liveViewOrigins ?? [new URL(sim.url).origin],
    };
    closers.push(() => sim.close());
  }
  let selection: ReturnType<typeof selectTools>;
  try {
    selection = selectTools(config);
  } catch (err) {
    if (err instanceof SelectionError) fail(err.message);
    throw err;
  }

  // Passthrough and the built-in OAuth server reach Kernel with each client's own key, not the server's.
  const passthrough =
    config.transport === 'http' && (config.auth === 'passthrough' || (config.auth === 'oauth' && !config.oauthIssuer));
  if (!apiKey && !passthrough) {
    const self = selfCommand();
    fail(
      'KERNEL_API_KEY is not set. Set it to your Kernel API key (https://dashboard.onkernel.com -> API keys) in the ' +
        `client's config or the environment, e.g. \`KERNEL_API_KEY=sk_... ${self}\`, or try it offline with ` +
        `\`${self} --simulate\` (in the MCP bundle: the Kernel API key or Simulate setting).`,
      1,
    );
  }
  const client = new KernelClient({
    baseUrl,
    apiKey: apiKey ?? '',
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    maxAnswerBytes: config.maxAnswerBytes,
    maxDownloadBytes: config.maxDownloadBytes,
    maxEventBytes: config.maxEventBytes,
    logger,
    userAgent: `kernel-mcp/${VERSION}`,
  });
  const skills: ServerDeps['skills'] = await skillsLoading;
  const deps: ProcessDeps = {
    client,
    logger,
    localFiles: config.transport === 'stdio',
    simulated: config.simulate,
    selection,
    skills,
  };
  const target = config.simulate ? `the built-in simulator at ${baseUrl} (SIMULATED)` : baseUrl;

  let running: Running;
  if (config.transport === 'http') {
    const { startHttpServer } = await import('./http/lifecycle.js');
    try {
      running = await startHttpServer(config, deps);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const close of closers.reverse()) await close();
      fail(err.message);
    }
  } else {
    // Over HTTP each tenant has its own hub (tenants.ts); over stdio the one connection has this one.
    const hub = new StreamHub(client, {
      bufferEvents: config.streamBufferEvents,
      bufferBytes: config.streamBufferBytes,
      idleMs: config.streamIdleMs,
      logger,
    });
    closers.push(() => hub.close());
    running = serveStdioConnection(config, { ...deps, hub });
    logger.info(`kernel-mcp ${VERSION} serving ${selection.tools.length} tools over stdio against ${target}`);
    // The client closing stdin ends the session and the process.
    process.stdin.on('end', () => void shutdown());
    process.stdin.on('close', () => void shutdown());
  }

  // SIGTERM (an orchestrator stopping the instance) drains an HTTP server first; SIGINT (Ctrl-C), a second signal or
  // stdin closing stops at once.
  let stopping = false;
  async function shutdown(drain = false) {
    if (stopping) {
      void running.close();
      return;
    }
    stopping = true;
    const drainMs = drain && config.transport === 'http' ? config.shutdownDrainMs + config.timeoutMs : 0;
    const timer = setTimeout(() => process.exit(0), drainMs + 3000);
    timer.unref();
    try {
      await running.close({ drain });
    } catch {}
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch {}
    }
    process.exit(0);
  }
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown(true));
}

main().catch((err) => {
  // The stack only on request: the line says what failed.
  if (process.env.KERNEL_MCP_LOG_LEVEL === 'debug') process.stderr.write(`${(err as Error).stack ?? err}\n`);
  fail(`failed to start: ${(err as Error).message ?? err}`, 1);
});
