/**
 * Prompts for clients that surface them as commands, built from the shipped skills' own texts (not a second copy):
 * `kernel-concepts` and `debug-browser-session {id}`, whose id completes from the live browser sessions.
 */
import { completable, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { KernelClient } from '../kernel/client.js';
import type { Logger } from '../log.js';
import { skillText } from './catalog.js';

function userText(text: string) {
  return { messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }] };
}

/** Browser session ids starting with `prefix`, for completion; an API failure completes nothing. */
async function browserIds(client: KernelClient, logger: Logger, prefix: string): Promise<string[]> {
  try {
    const { data } = await client.json<unknown>({ method: 'GET', path: '/browsers', query: { limit: 100 } });
    const ids = Array.isArray(data) ? data.map((b) => (b as { session_id?: unknown }).session_id) : [];
    return ids.filter((id): id is string => typeof id === 'string' && id.startsWith(prefix)).sort();
  } catch (err) {
    logger.debug('prompt completion failed', { error: (err as Error).message });
    return [];
  }
}

export function registerPrompts(server: McpServer, deps: { client: KernelClient; logger: Logger }): void {
  const concepts = skillText('kernel-concepts');
  server.registerPrompt('kernel-concepts', { title: 'Kernel concepts', description: concepts.description }, () =>
    userText(concepts.body),
  );
  const debug = skillText('kernel-debug-browser-session');
  server.registerPrompt(
    'debug-browser-session',
    {
      title: 'Debug a browser session',
      description: debug.description,
      argsSchema: z.object({
        id: completable(z.string().min(1).describe('Browser session id (browsers_list shows them)'), (value) =>
          browserIds(deps.client, deps.logger, value ?? ''),
        ),
      }),
    },
    ({ id }) =>
      userText(`Debug the Kernel browser session \`${id}\` (pass it as \`id\`). Follow this guide:\n\n${debug.body}`),
  );
}
