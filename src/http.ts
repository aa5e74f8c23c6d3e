/** Streamable HTTP transport (issue 6). */
import type { Config } from './config.js';
import type { ServerDeps } from './server.js';

export async function startHttpServer(_config: Config, _deps: ServerDeps): Promise<{ close(): Promise<void> }> {
  throw new Error('the HTTP transport is not built yet');
}
