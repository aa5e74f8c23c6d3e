/** How a tool name becomes its path under `kernel` in code mode when the official SDK has no call for it. */

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * `auth_connections_exchange` with the known namespace `auth_connections` -> `auth.connections.exchange`; with no
 * known namespace every segment is one: `agents_auth_invocations_create` -> `agents.auth.invocations.create`.
 */
export function pathFromName(name: string, namespaces: ReadonlyMap<string, string> = new Map()): string {
  const parts = name.split('_');
  for (let n = parts.length - 1; n > 0; n--) {
    const ns = namespaces.get(parts.slice(0, n).join('_'));
    if (ns) return `${ns}.${camel(parts.slice(n).join('_'))}`;
  }
  return parts.join('.');
}
