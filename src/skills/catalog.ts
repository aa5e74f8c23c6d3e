/**
 * The skills we ship (the top-level `skills/` folder, one Agent Skill per folder): found next to the package, served
 * through the SDK's Skills extension, read again as prompt texts, and exported as a folder for file-based loaders.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkillCatalog } from '@modelcontextprotocol/server/ext/skills';

/** The `skills/` folder of this package: two levels up from src/ (tsx) or three from dist/src/ (built). */
export function skillsRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'skills');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the skills/ folder of kernel-mcp was not found next to its package.json');
}

/** Loads the catalog once per process (its files are read when a client asks for them). */
export async function loadSkillCatalog(): Promise<SkillCatalog> {
  const { loadSkills } = await import('@modelcontextprotocol/server/ext/skills/node');
  // Strict: a malformed skill is a packaging bug, not something to serve half of.
  return loadSkills(skillsRoot(), { strict: true, cacheHint: { ttlMs: 3_600_000, cacheScope: 'public' } });
}

export interface SkillText {
  name: string;
  description: string;
  /** The SKILL.md body without its frontmatter. */
  body: string;
}

const texts = new Map<string, SkillText>();

/** One skill's SKILL.md, parsed (name, description, body); read once per process. */
export function skillText(name: string): SkillText {
  const cached = texts.get(name);
  if (cached) return cached;
  const source = readFileSync(join(skillsRoot(), name, 'SKILL.md'), 'utf8');
  const match = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(source);
  if (!match) throw new Error(`skills/${name}/SKILL.md has no frontmatter`);
  const field = (key: string) => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(match[1] ?? '')?.[1]?.trim() ?? '';
  const text = { name: field('name'), description: field('description'), body: (match[2] ?? '').trim() };
  texts.set(name, text);
  return text;
}

/** The names of the shipped skills (their folder names). */
export function skillNames(): string[] {
  return readdirSync(skillsRoot(), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(skillsRoot(), e.name, 'SKILL.md')))
    .map((e) => e.name)
    .sort();
}

/** `kernel-mcp skills export DIR`: copies every skill folder into DIR (created), for file-based skill loaders. */
export async function exportSkills(target: string): Promise<string[]> {
  const dest = resolve(target);
  await mkdir(dest, { recursive: true });
  const names = skillNames();
  for (const name of names) await cp(join(skillsRoot(), name), join(dest, name), { recursive: true });
  return names;
}
