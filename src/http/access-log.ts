/**
 * Every refused request to the MCP endpoint (401, 403, 413, 503) is logged at `info` with the reason its answer gave
 * and the client's address, so whoever runs the server sees why a client "failed to connect". Headers that carry
 * secrets (Authorization) are never logged.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Logger } from '../log.js';
import { refusalReason } from './respond.js';

const REFUSALS = new Set([401, 403, 413, 503]);

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Logs the request once its answer is sent, if that answer refused it. */
export function logRefusal(req: IncomingMessage, res: ServerResponse, logger: Logger, mcpPath = '/mcp') {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== mcpPath) return;
  // The address is read now: the socket may be gone when the answer is.
  const { remoteAddress = 'unknown', remotePort } = req.socket;
  const client = remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
  res.once('close', () => {
    if (!res.headersSent || !REFUSALS.has(res.statusCode)) return;
    const reason = refusalReason(res) ?? STATUS_CODES[res.statusCode] ?? 'refused';
    const fields: Record<string, unknown> = {
      status: res.statusCode,
      client,
      method: req.method,
      host: header(req, 'host'),
    };
    for (const name of ['origin', 'x-forwarded-for', 'user-agent']) {
      const v = header(req, name);
      if (v) fields[name] = v;
    }
    logger.info(`refused ${req.method} ${path} with ${res.statusCode}: ${reason}`, fields);
  });
}
