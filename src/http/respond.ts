/** JSON-RPC error answers, as web `Response`s (inside the MCP routing) and written to a Node response (in front). */
import type { ServerResponse } from 'node:http';

function errorBody(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}) {
  return new Response(errorBody(code, message), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const reasons = new WeakMap<ServerResponse, string>();

/** The message a refused request was answered with (for the log of refusals). */
export function refusalReason(res: ServerResponse): string | undefined {
  return reasons.get(res);
}

export function writeJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  reasons.set(res, message);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Writes a web-standard Response (the SDK's OAuth challenges) to a node response. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
}
