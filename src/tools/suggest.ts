/**
 * Errors that teach: the closest names to a mistaken tool or argument name, and the messages that offer them.
 * Names are ranked by the words they share with the mistake (`browser_screenshot` → the tools with `screenshot`),
 * then by edit distance (`browsers_creat` → `browsers_create`).
 */

/** Edit distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

const words = (s: string) =>
  s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
/** Singular and plural are one word here (`browser` and `browsers`). */
const stem = (w: string) => w.replace(/(es|s)$/, '');

/** Words of the argument names agents reach for that mean a different argument. */
const ARGUMENT_ALIASES: Record<string, string[]> = {
  url: ['start_url'],
  browser_id: ['id'],
  session_id: ['id'],
  browser: ['id'],
  pid: ['process_id'],
  cmd: ['command'],
  script: ['code'],
  text: ['content_text'],
  data: ['content_text', 'content'],
  cursor: ['after'],
  timeout: ['timeout_sec', 'timeout_seconds', 'timeout_ms'],
};

/** Up to `n` names of `valid` closest to `input`; empty when nothing is close. */
export function closestNames(input: string, valid: readonly string[], n = 3): string[] {
  const aliases = (ARGUMENT_ALIASES[input.toLowerCase()] ?? []).filter((a) => valid.includes(a));
  const mine = words(input).map(stem);
  const scored = valid
    .filter((v) => !aliases.includes(v))
    .map((v) => {
      const theirs = words(v).map(stem);
      const shared = mine.filter((w) => theirs.some((t) => t === w || (w.length > 3 && t.startsWith(w)))).length;
      return { v, shared, d: distance(input.toLowerCase(), v.toLowerCase()) };
    })
    .filter((s) => s.shared > 0 || s.d <= Math.max(2, input.length / 3) || s.v.startsWith(input.toLowerCase()))
    .sort((a, b) => b.shared - a.shared || a.d - b.d || a.v.localeCompare(b.v));
  return [...aliases, ...scored.map((s) => s.v)].slice(0, n);
}

const quoted = (names: string[]) => names.map((x) => `\`${x}\``).join(', ');

/** The message for a tool name this server does not list. */
export function unknownToolMessage(name: string, listed: readonly string[], known: readonly string[] = []): string {
  const near = closestNames(name, listed);
  let msg = `Unknown tool \`${name}\`.`;
  if (near.length) msg += ` Did you mean ${quoted(near)}?`;
  else msg += ' Call tools/list for the tools this server offers.';
  // A tool that exists but is not in this server's selection: say how to get it.
  const hidden = known.includes(name) ? [name] : closestNames(name, known, 1).filter((k) => !listed.includes(k));
  if (hidden.length && !near.includes(hidden[0]!)) {
    msg += ` \`${hidden[0]}\` exists but is not enabled here: start the server with \`--tools ${hidden[0]}\` (or a --toolsets that has it).`;
  }
  return msg;
}

/** A hint for unknown argument names: the closest valid argument for each. */
export function unknownArgumentsHint(unknown: readonly string[], valid: readonly string[]): string {
  const hints = unknown.map((u) => {
    const near = closestNames(u, valid, 2);
    return near.length ? `\`${u}\`: did you mean ${quoted(near)}?` : `\`${u}\` is not an argument of this tool.`;
  });
  return `${hints.join(' ')} Valid arguments: ${valid.join(', ')}`;
}
