/**
 * Screenshots an agent can afford, and coordinates that land where it sees them.
 *
 * Screenshots are scaled so their longest edge is at most `--screenshot-max-edge` (default 1568, the size Claude
 * works at) and encoded as JPEG (default: a fraction of a PNG's bytes) or PNG, with sharp. The answer states the
 * original size, the returned size and the scale.
 *
 * Every tool that takes screen coordinates (click, move, drag paths, scroll, a screenshot region, the actions of
 * browsers_computer_batch) takes them by default in the pixel space of the screenshots this server returns and
 * scales them to viewport pixels; the mouse position comes back in that space too. `--coordinates viewport` makes
 * them raw viewport pixels. The scale comes from the browser's viewport (GET /browsers/{id}, remembered per browser
 * for the life of the server instance; default 1920x1080 as the API's).
 */
import { createRequire } from 'node:module';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { OperationRow } from '../kernel/operation.js';
import type { ToolContext, ToolDefinition } from './define.js';
import { errorResult } from './results.js';

export interface Size {
  width: number;
  height: number;
}

/** The API's default viewport, when a browser does not report one. */
const DEFAULT_VIEWPORT: Size = { width: 1920, height: 1080 };

export const SCREENSHOT_DEFAULTS = { format: 'jpeg' as const, quality: 80 };

/** Operations whose arguments hold screen coordinates, or that answer a position (`screen` in scripts/policy.ts). */
export const usesCoordinates = (row: OperationRow) => row.screen === 'coordinates' || row.screen === 'position';

/** The returned size of a screenshot of `size`: the longest edge at most maxEdge (0: unscaled). */
export function scaledSize(size: Size, maxEdge: number): Size {
  const s = maxEdge > 0 ? Math.min(1, maxEdge / Math.max(size.width, size.height)) : 1;
  return { width: Math.max(1, Math.round(size.width * s)), height: Math.max(1, Math.round(size.height * s)) };
}

/** Screenshot-space to viewport-space factors per axis (1 when nothing is scaled). */
interface Mapping {
  fx: number;
  fy: number;
  viewport: Size;
}

function mappingFor(viewport: Size, maxEdge: number): Mapping {
  const shot = scaledSize(viewport, maxEdge);
  return { fx: viewport.width / shot.width, fy: viewport.height / shot.height, viewport };
}

/** The viewport of a browser: remembered per server instance, else asked of the API. */
async function viewportOf(id: string, ctx: ToolContext): Promise<Size> {
  const known = ctx.viewports?.get(id);
  if (known) return known;
  let size = DEFAULT_VIEWPORT;
  try {
    const { data } = await ctx.client.json<{ viewport?: Partial<Size> }>({
      method: 'GET',
      path: `/browsers/${encodeURIComponent(id)}`,
      signal: ctx.signal,
    });
    const v = data?.viewport;
    if (v && typeof v.width === 'number' && typeof v.height === 'number') size = { width: v.width, height: v.height };
  } catch {
    // The call itself reports a missing browser; scale with the default meanwhile.
  }
  ctx.viewports?.set(id, size);
  return size;
}

/** Forgets a browser's viewport (after browsers_update or browsers_delete). */
export function forgetViewport(row: OperationRow, args: Record<string, unknown>, ctx: ToolContext): void {
  if (row.screen === 'viewport' && typeof args.id === 'string') {
    ctx.viewports?.delete(args.id);
  }
}

/**
 * The longest edge screenshots are scaled to: the configured one, or 0 (no scaling) where sharp is not installed
 * (it is an optional dependency: the MCP bundle leaves its platform-specific binaries out). Coordinates follow it.
 */
function maxEdgeOf(ctx: ToolContext): number {
  return sharpInstalled() ? ctx.config.screenshotMaxEdge : 0;
}

let installed: boolean | undefined;
function sharpInstalled(): boolean {
  if (installed === undefined) {
    try {
      createRequire(import.meta.url).resolve('sharp');
      installed = true;
    } catch {
      installed = false;
    }
  }
  return installed;
}

const active = (ctx: ToolContext) => ctx.config.coordinates === 'screenshot' && maxEdgeOf(ctx) > 0;

function clamp(v: number, max: number): number {
  return Math.min(Math.max(0, v), Math.max(0, max - 1));
}

type Obj = Record<string, unknown>;

function scalePoint(o: Obj, m: Mapping): Obj {
  const out = { ...o };
  if (typeof o.x === 'number') out.x = clamp(Math.round(o.x * m.fx), m.viewport.width);
  if (typeof o.y === 'number') out.y = clamp(Math.round(o.y * m.fy), m.viewport.height);
  return out;
}

function scalePath(path: unknown, m: Mapping): unknown {
  if (!Array.isArray(path)) return path;
  return path.map((p) =>
    Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number'
      ? [clamp(Math.round(p[0] * m.fx), m.viewport.width), clamp(Math.round(p[1] * m.fy), m.viewport.height)]
      : p,
  );
}

function scaleRegion(region: unknown, m: Mapping): unknown {
  if (!region || typeof region !== 'object') return region;
  const r = region as Obj;
  const x = clamp(Math.round(Number(r.x) * m.fx), m.viewport.width);
  const y = clamp(Math.round(Number(r.y) * m.fy), m.viewport.height);
  const width = Math.max(1, Math.min(m.viewport.width - x, Math.round(Number(r.width) * m.fx)));
  const height = Math.max(1, Math.min(m.viewport.height - y, Math.round(Number(r.height) * m.fy)));
  return { ...r, x, y, width, height };
}

function scaleAction(action: unknown, m: Mapping): unknown {
  if (!action || typeof action !== 'object') return action;
  const a = { ...(action as Obj) };
  for (const key of ['click_mouse', 'move_mouse', 'scroll']) {
    if (a[key] && typeof a[key] === 'object') a[key] = scalePoint(a[key] as Obj, m);
  }
  if (a.drag_mouse && typeof a.drag_mouse === 'object') {
    const d = a.drag_mouse as Obj;
    a.drag_mouse = { ...d, path: scalePath(d.path, m) };
  }
  return a;
}

/** The arguments with screenshot-space coordinates turned into viewport pixels (unchanged when not scaling). */
export async function toViewport(row: OperationRow, args: Obj, ctx: ToolContext): Promise<Obj> {
  if (!active(ctx) || row.screen !== 'coordinates' || typeof args.id !== 'string') return args;
  if (row.shape === 'screenshot' && !args.region) return args;
  const m = mappingFor(await viewportOf(args.id, ctx), maxEdgeOf(ctx));
  if (m.fx === 1 && m.fy === 1) return args;
  switch (row.operationId) {
    case 'dragMouse':
      return { ...args, path: scalePath(args.path, m) };
    case 'takeScreenshot':
      return args.region ? { ...args, region: scaleRegion(args.region, m) } : args;
    case 'batchComputerAction':
      return {
        ...args,
        actions: Array.isArray(args.actions) ? args.actions.map((a) => scaleAction(a, m)) : args.actions,
      };
    default:
      return scalePoint(args, m);
  }
}

/** A mouse position in viewport pixels, shown in screenshot space. */
export async function positionToScreenshot(args: Obj, data: unknown, ctx: ToolContext): Promise<unknown> {
  if (!active(ctx) || typeof args.id !== 'string' || !data || typeof data !== 'object') return data;
  const m = mappingFor(await viewportOf(args.id, ctx), maxEdgeOf(ctx));
  const p = data as Obj;
  if (typeof p.x !== 'number' || typeof p.y !== 'number') return data;
  return { ...p, x: Math.round(p.x / m.fx), y: Math.round(p.y / m.fy) };
}

/** The screenshot tool's own arguments (not sent to the API). */
export const screenshotArgs = {
  format: z.enum(['jpeg', 'png']).describe(`Image format (default ${SCREENSHOT_DEFAULTS.format}).`).optional(),
  quality: z.int().min(1).max(100).describe(`JPEG quality (default ${SCREENSHOT_DEFAULTS.quality}).`).optional(),
};

type Sharp = typeof import('sharp').default;
let sharpModule: Promise<Sharp | undefined> | undefined;
/** sharp (native libvips) loads on the first screenshot, not at start-up; undefined where it is not installed. */
const loadSharp = () => {
  sharpModule ??= sharpInstalled()
    ? import('sharp').then(
        (m) => m.default,
        () => undefined,
      )
    : Promise.resolve(undefined);
  return sharpModule;
};

/** Without sharp: the PNG as the API sent it, with its size read from its header, unscaled. */
function unscaledResult(bytes: Uint8Array): CallToolResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const png = bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50;
  const width = png ? view.getUint32(16) : 0;
  const height = png ? view.getUint32(20) : 0;
  const summary = {
    media_type: 'image/png',
    bytes: bytes.byteLength,
    width,
    height,
    original_width: width,
    original_height: height,
    scale: 1,
    note:
      'Coordinates for the computer tools are pixels of this image. Not scaled: the image library (sharp) is not ' +
      'installed here (`npm install sharp` next to kernel-mcp adds scaling and JPEG).',
  };
  return {
    content: [
      { type: 'image', data: Buffer.from(bytes).toString('base64'), mimeType: 'image/png' },
      { type: 'text', text: JSON.stringify(summary) },
    ],
    structuredContent: summary,
  };
}

/**
 * A screenshot answer: the image scaled to the max edge and encoded as asked, plus the original size, the returned
 * size, the scale and the coordinate space.
 */
export async function screenshotResult(bytes: Uint8Array, args: Obj, ctx: ToolContext): Promise<CallToolResult> {
  const format = (args.format as 'jpeg' | 'png' | undefined) ?? SCREENSHOT_DEFAULTS.format;
  const quality = (args.quality as number | undefined) ?? SCREENSHOT_DEFAULTS.quality;
  const sharp = await loadSharp();
  if (!sharp) return unscaledResult(bytes);
  let original: Size;
  try {
    const meta = await sharp(bytes).metadata();
    original = { width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch (err) {
    return errorResult(new Error(`The screenshot could not be decoded: ${(err as Error).message}`));
  }
  const maxEdge = maxEdgeOf(ctx);
  // A whole-screen screenshot is the viewport: remember it, so the next click needs no lookup.
  if (!args.region && typeof args.id === 'string' && original.width > 0) ctx.viewports?.set(args.id, original);
  // A region is scaled by the whole screen's factor, so the two kinds of screenshot agree.
  let target = scaledSize(original, maxEdge);
  if (args.region && typeof args.id === 'string' && maxEdge > 0) {
    const m = mappingFor(await viewportOf(args.id, ctx), maxEdge);
    target = {
      width: Math.max(1, Math.round(original.width / m.fx)),
      height: Math.max(1, Math.round(original.height / m.fy)),
    };
  }
  let image = sharp(bytes);
  if (target.width !== original.width || target.height !== original.height) {
    image = image.resize(target.width, target.height, { fit: 'fill' });
  }
  const out = format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality }).toBuffer();
  const scale = Math.round((target.width / Math.max(1, original.width)) * 10000) / 10000;
  const coordinates =
    ctx.config.coordinates === 'screenshot' || scale === 1
      ? 'Coordinates for the computer tools are pixels of this image.'
      : `Coordinates for the computer tools are viewport pixels: divide this image's pixels by ${scale}.`;
  const summary = {
    media_type: `image/${format}`,
    bytes: out.byteLength,
    width: target.width,
    height: target.height,
    original_width: original.width,
    original_height: original.height,
    scale,
    note: coordinates,
  };
  return {
    content: [
      { type: 'image', data: out.toString('base64'), mimeType: `image/${format}` },
      { type: 'text', text: JSON.stringify(summary) },
    ],
    structuredContent: summary,
  };
}

/** The line each coordinate tool's description carries: which space its coordinates are in. */
export function coordinateLine(space: 'screenshot' | 'viewport'): string {
  return space === 'screenshot'
    ? 'Coordinates: pixels of the screenshots this server returns.'
    : 'Coordinates: raw viewport pixels (not of scaled screenshots).';
}

const variants = new WeakMap<ToolDefinition, ToolDefinition>();

/** Coordinate tools as described for raw viewport pixels (`--coordinates viewport`); built once per definition. */
export function forCoordinateSpace(
  defs: readonly ToolDefinition[],
  space: 'screenshot' | 'viewport',
): ToolDefinition[] {
  if (space === 'screenshot') return [...defs];
  const from = coordinateLine('screenshot');
  return defs.map((def) => {
    if (!def.description.includes(from)) return def;
    let v = variants.get(def);
    if (!v) {
      v = { ...def, description: def.description.replace(from, coordinateLine('viewport')) };
      variants.set(def, v);
    }
    return v;
  });
}
