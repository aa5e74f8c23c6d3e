/**
 * Stream resources: one URI template per event stream, read and subscribed through the stream hub.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';
import type { ServerDeps } from '../server.js';

export function registerResources(_server: McpServer, _config: Config, _deps: ServerDeps): void {}
