/** The shipped skills (top-level skills/ folder) and their worked examples, read the way a reader of the files would. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './mcp.js';

export const SKILLS_DIR = join(ROOT, 'skills');

export function shippedSkills(): string[] {
  return readdirSync(SKILLS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Every Markdown file of a skill (SKILL.md and its references), concatenated. */
export function skillFiles(name: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.md')) out.push({ path: p, text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(SKILLS_DIR, name));
  return out;
}

export interface ExampleStep {
  tool: string;
  arguments: Record<string, unknown>;
  /** Names a value of the answer for later steps: `{"browser": "session_id"}` makes `{{browser}}` usable. */
  save?: Record<string, string>;
  /** Repeat the call (passing a returned `cursor` back as `after`) until the answer's field equals the value. */
  until?: { field: string; equals: unknown };
}

/** The worked examples: fenced ```json kernel-example blocks, each an array of steps. */
export function workedExamples(name: string): ExampleStep[][] {
  const out: ExampleStep[][] = [];
  for (const { text } of skillFiles(name)) {
    for (const m of text.matchAll(/```json kernel-example\n([\s\S]*?)```/g)) out.push(JSON.parse(m[1] ?? '[]'));
  }
  return out;
}
