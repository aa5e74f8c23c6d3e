/**
 * The proxy_pool_sessions toolset: CreateSession, BulkCreateSessions and DeleteSession of the proxy-pool service,
 * offered only when KERNEL_PROXY_POOL_URL (or --simulate) gives the service's URL. See docs/proxy-pool.md.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { addSecret } from '../redact.js';
import { defineTool, type ToolDefinition } from '../tools/define.js';
import { charsForTokens, jsonResult, textResult } from '../tools/results.js';
import { callRpc } from './client.js';
import {
  type BulkCreateSessionsArgs,
  bulkCreateSessionsBody,
  bulkCreateSessionsInput,
  type CreateSessionArgs,
  createSessionBody,
  createSessionInput,
  type DeleteSessionArgs,
  deleteSessionBody,
  deleteSessionInput,
  type SessionArgs,
  sessionView,
} from './schemas.js';
import { PROXY_POOL_TOOLSET } from './toolset.js';

function registerPasswords(sessions: SessionArgs[]) {
  // Stryker disable next-line ConditionalExpression: equivalent (addSecret ignores what is not a string).
  for (const s of sessions) if (s.password !== undefined) addSecret(s.password);
}

function sessionOf(data: Record<string, unknown>, rpc: string): unknown {
  if (!data.session || typeof data.session !== 'object') {
    throw new Error(`Proxy-pool service answered ${rpc} without a session; the call may have taken effect.`);
  }
  return sessionView(data.session);
}

/** The bulk answer in full when it fits the cap, else each session as {id, token}, else cut by whole sessions. */
export function bulkResult(sessions: unknown[], maxChars: number): CallToolResult {
  const full = { sessions, count: sessions.length };
  if (JSON.stringify(full).length <= maxChars) return jsonResult(full, maxChars);
  const brief = sessions.map((s) => {
    const r = (s ?? {}) as Record<string, unknown>;
    return { id: r.id, token: r.token };
  });
  const note = `All ${sessions.length} sessions were created or already existed; the full answer is over the result cap (--max-result-tokens), so each is shown as {id, token}.`;
  const short = { sessions: brief, count: sessions.length, note };
  if (JSON.stringify(short).length <= maxChars) return textResult(JSON.stringify(short), short);
  let size = 400;
  let kept = 0;
  for (const s of brief) {
    const len = JSON.stringify(s).length + 1;
    if (size + len > maxChars) break;
    size += len;
    kept++;
  }
  const cut = {
    sessions: brief.slice(0, kept),
    count: sessions.length,
    note: `All ${sessions.length} sessions were created or already existed; only the first ${kept} fit the result cap (--max-result-tokens). Re-running the same request is safe (idempotent) and returns the same sessions; send fewer per request to see them all.`,
  };
  return textResult(JSON.stringify(cut), cut);
}

const IDS_NOTE =
  'IDs (workspace_id, pool_id, provider_id, id) are standard base64 of exactly 16 bytes, like AY+MHnorfD2eTxorPE1ebw==.';

export const proxyPoolTools: readonly ToolDefinition[] = [
  defineTool<CreateSessionArgs>({
    name: 'proxy_pool_sessions_create',
    title: 'Create a proxy-pool session',
    description:
      'Add one proxy session to a pool from one of its providers. A rotation session gives only `token` (its sticky-session token); a static session gives scheme, host, port, username and password (token optional). The password is write-only: sent, never returned. A live session with the same token in the pool gives already_exists. Not retried automatically. ' +
      IDS_NOTE,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    toolset: PROXY_POOL_TOOLSET,
    input: createSessionInput,
    handler: async (args, ctx) => {
      registerPasswords([args]);
      const data = await callRpc(ctx, 'CreateSession', createSessionBody(args));
      return jsonResult({ session: sessionOf(data, 'CreateSession') }, charsForTokens(ctx.config.maxResultTokens));
    },
  }),
  defineTool<BulkCreateSessionsArgs>({
    name: 'proxy_pool_sessions_bulk_create',
    title: 'Create many proxy-pool sessions',
    description:
      'Add many proxy sessions to a pool from one provider in one transaction: all are created or none. Idempotent on pool + token: re-running returns the existing sessions instead of duplicating them, so every session needs a token. Each session is a rotation session {token} or a static one {token, scheme, host, port, username, password}. Passwords are write-only. Answers {sessions, count} in request order. ' +
      IDS_NOTE,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    toolset: PROXY_POOL_TOOLSET,
    input: bulkCreateSessionsInput,
    handler: async (args, ctx) => {
      registerPasswords(args.sessions);
      const data = await callRpc(ctx, 'BulkCreateSessions', bulkCreateSessionsBody(args));
      if (!Array.isArray(data.sessions)) {
        throw new Error('Proxy-pool service answered BulkCreateSessions without sessions; calling again is safe.');
      }
      return bulkResult(data.sessions.map(sessionView), charsForTokens(ctx.config.maxResultTokens));
    },
  }),
  defineTool<DeleteSessionArgs>({
    name: 'proxy_pool_sessions_delete',
    title: 'Delete a proxy-pool session',
    description:
      'Remove a proxy session from its pool (a soft delete: it is no longer used to resolve proxies). Deleting a session that is already deleted gives not_found. ' +
      IDS_NOTE,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    toolset: PROXY_POOL_TOOLSET,
    input: deleteSessionInput,
    handler: async (args, ctx) => {
      const data = await callRpc(ctx, 'DeleteSession', deleteSessionBody(args));
      const result: Record<string, unknown> = { deleted: true, id: args.id, workspace_id: args.workspace_id };
      if (data.session && typeof data.session === 'object') result.session = sessionView(data.session);
      return jsonResult(result, charsForTokens(ctx.config.maxResultTokens));
    },
  }),
];
