/**
 * The generator's description rules (scripts/lib/zod-emitter.ts): whole sentences, short, without what the schema
 * already says (its default, bounds, length or pattern), and nothing an agent needs dropped.
 */
import { describe, expect, it } from 'vitest';
import { fieldDescription, sentences, shortDescription } from '../scripts/lib/zod-emitter.js';
import { operationTools } from '../src/tools/operations.js';

describe('sentences', () => {
  it('splits at sentence ends, not after "e.g." or inside numbers and names', () => {
    expect(sentences('Optional file mode (octal string, e.g. 644). Defaults to 644.')).toEqual([
      'Optional file mode (octal string, e.g. 644).',
      'Defaults to 644.',
    ]);
    expect(sentences('Use v1.2 of **the** thing.  Then   stop.')).toEqual(['Use v1.2 of the thing.', 'Then stop.']);
    expect(sentences(undefined)).toEqual([]);
  });
});

describe('fieldDescription', () => {
  it('drops a sentence restating the default only when the schema carries the default', () => {
    const text = 'Maximum number of results to return. Defaults to 20, maximum 100.';
    expect(fieldDescription(text, { default: 20, maximum: 100 })).toBe('Maximum number of results to return.');
    expect(fieldDescription(text, {})).toBe(text);
  });

  it('drops bounds, length and item-count sentences the schema states', () => {
    expect(fieldDescription('Steps per segment. Minimum 1.', { minimum: 1 })).toBe('Steps per segment.');
    expect(
      fieldDescription('Profile name. Must be 1-255 characters, using letters.', { pattern: '^[a-z]{1,255}$' }),
    ).toBe('Profile name.');
    expect(fieldDescription('Points to visit. Must contain at least 2 points.', { minItems: 2 })).toBe(
      'Points to visit.',
    );
    expect(fieldDescription('Points to visit. Must contain at least 2 points.', {})).toBe(
      'Points to visit. Must contain at least 2 points.',
    );
  });

  it('drops a leading "Optional" (required says that) and keeps what follows', () => {
    expect(fieldDescription('Optional proxy to use.', {})).toBe('Proxy to use.');
    expect(fieldDescription('Optional. Name of the thing.', {})).toBe('Name of the thing.');
  });

  it('keeps whole sentences up to the length limit, never cutting a short first sentence', () => {
    const text =
      'ID of the proxy to use. Omit to leave unchanged, set to empty string to remove proxy. A third sentence that would not fit.';
    expect(fieldDescription(text, {})).toBe(
      'ID of the proxy to use. Omit to leave unchanged, set to empty string to remove proxy.',
    );
    const long = `${'word '.repeat(40)}end.`;
    expect(fieldDescription(long, {}).length).toBeLessThanOrEqual(long.length);
    expect(shortDescription('A. B. C.', 5)).toBe('A. B.');
  });
});

describe('generated descriptions', () => {
  const byName = new Map(operationTools.map((t) => [t.name, t]));

  it('start with what the tool does and do not repeat themselves', () => {
    expect(byName.get('browsers_update')!.description).not.toMatch(/Update browser session\. Update a browser session/);
    expect(byName.get('browsers_create')!.description).toContain('session_id');
    expect(byName.get('browsers_computer_batch')!.description).toContain('one call');
  });

  it('keep the replacement of a deprecated operation', () => {
    const legacy = byName.get('legacy_projects_list')!;
    expect(legacy.deprecated).toBe(true);
    expect(legacy.description).toMatch(/^Deprecated: use projects_list instead\./);
  });

  it('describe stream tools by what they read, not the transport', () => {
    for (const name of ['invocations_follow', 'deployments_follow', 'browsers_telemetry_stream']) {
      const t = byName.get(name)!;
      expect(t.description, name).not.toMatch(/\bSSE\b|Server-Sent/);
      expect(t.title, name).not.toMatch(/via SSE/);
      expect(t.description, name).toContain('cursor');
    }
  });
});
