/**
 * Path parameters: each value becomes exactly one path segment. Empty values and the dot segments `.` and `..`
 * (also percent-encoded, once or more, and as a segment of a value with slashes) are refused before any request:
 * URL resolution would turn `/invocations/../browsers` into another route.
 */

/** A bad tool argument, named: `Invalid argument <field>: <what is wrong and what to give instead>`. */
export class ArgumentError extends Error {
  override name = 'ArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`Invalid argument ${field}: ${message}`);
  }
}

/** The value decoded until it stops changing (a few rounds: double-encoded `%252e` is still a dot). */
function decoded(value: string): string {
  if (!value.includes('%')) return value;
  let v = value;
  for (let i = 0; i < 4; i++) {
    let next: string;
    try {
      next = decodeURIComponent(v);
    } catch {
      return v;
    }
    if (next === v) return v;
    v = next;
  }
  return v;
}

/** Throws ArgumentError naming `field` when `value` is not a usable path segment. */
export function checkPathParam(field: string, value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  if (s.trim() === '') throw new ArgumentError(field, 'must not be empty. Give the id or name it asks for.');
  // Only a value with a dot in it (plain or encoded) can hold a dot segment.
  if (
    (s.includes('.') || s.includes('%')) &&
    decoded(s)
      .split(/[/\\]/)
      .some((seg) => seg === '.' || seg === '..')
  ) {
    throw new ArgumentError(
      field,
      `"${s.slice(0, 60)}" is or contains a '.' or '..' path segment, which would reach another route. Give the id or name itself.`,
    );
  }
  return s;
}

/** Fills a path template (`/browsers/{id}/logs`) with checked, encoded values. */
export function expandPathTemplate(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(checkPathParam(name, values[name])));
}
