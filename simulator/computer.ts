/**
 * Computer controls. Mouse position, scroll offset, cursor visibility and clipboard are kept per session;
 * coordinates must lie inside the viewport. Screenshots are real PNGs of the viewport (or the region): the
 * page background depends on the current URL, the toolbar is drawn unless kiosk/headless, and the mouse
 * cursor is drawn at its position unless hidden.
 */
import { requireBrowser } from './browsers.js';
import type { SimContext } from './context.js';
import { badRequest } from './errors.js';
import type { Ctx, Reply, Route } from './http.js';
import { bodyOf, bytes, empty, json } from './http.js';
import { encodePng, pageColor, renderScreen } from './png.js';
import { emitTelemetry, eventContext } from './telemetry.js';
import type { BrowserRecord } from './types.js';
import { stableHash } from './util.js';
import { componentEnum } from './validate.js';

interface Click {
  x: number;
  y: number;
  button?: string;
  click_type?: 'down' | 'up' | 'click';
  num_clicks?: number;
  hold_keys?: string[];
}
interface Move {
  x: number;
  y: number;
  duration_ms?: number;
  smooth?: boolean;
  hold_keys?: string[];
}
interface TypeText {
  text: string;
  delay?: number;
}
interface PressKey {
  keys: string[];
  duration?: number;
  hold_keys?: string[];
}
interface Scroll {
  x: number;
  y: number;
  delta_x?: number;
  delta_y?: number;
  hold_keys?: string[];
}
interface Drag {
  path: number[][];
  button?: string;
  delay?: number;
  hold_keys?: string[];
}

/** Upper bound on real waiting caused by delays/durations in one action (keeps the simulator responsive). */
const MAX_WAIT_MS = 5000;
/** Pixels scrolled per xdotool wheel unit. */
const WHEEL_PX = 100;

function checkPoint(b: BrowserRecord, x: number, y: number, where: string): void {
  const { width, height } = b.viewport;
  if (x < 0 || x >= width) throw badRequest(`${where}x (${x}) must be within the viewport width (0..${width - 1})`);
  if (y < 0 || y >= height) throw badRequest(`${where}y (${y}) must be within the viewport height (0..${height - 1})`);
}

const KEY_RE = /^(?:[A-Za-z0-9_]+|[^\sA-Za-z0-9_])$/u;

function checkKeys(keys: readonly string[], field: string): void {
  keys.forEach((combo, i) => {
    const parts = combo === '+' ? ['+'] : combo.split('+');
    if (combo === '' || parts.some((p) => !KEY_RE.test(p))) {
      throw badRequest(`${field}[${i}] ('${combo}') is not a valid key or key combination`);
    }
  });
}

const where = (prefix: string): string => (prefix ? `${prefix}.` : '');

function click(b: BrowserRecord, a: Click, prefix = ''): void {
  checkPoint(b, a.x, a.y, where(prefix));
  checkKeys(a.hold_keys ?? [], `${where(prefix)}hold_keys`);
  b.mouse = { x: a.x, y: a.y };
  const clicks = a.click_type === 'down' ? 0 : Math.max(1, a.num_clicks ?? 1);
  for (let i = 0; i < clicks; i++) {
    emitTelemetry(b, 'interaction_click', 'interaction', {
      ...eventContext(b),
      x: a.x,
      y: a.y,
      selector: 'html > body',
      tag: 'BODY',
      text: '',
    });
  }
}

async function move(sim: SimContext, b: BrowserRecord, a: Move, prefix = ''): Promise<void> {
  checkPoint(b, a.x, a.y, where(prefix));
  checkKeys(a.hold_keys ?? [], `${where(prefix)}hold_keys`);
  if (a.smooth !== false && a.duration_ms) await sim.timers.sleep(Math.min(a.duration_ms, MAX_WAIT_MS));
  b.mouse = { x: a.x, y: a.y };
}

async function typeText(sim: SimContext, b: BrowserRecord, a: TypeText): Promise<void> {
  const chars = [...a.text];
  if (a.delay) await sim.timers.sleep(Math.min(a.delay * chars.length, MAX_WAIT_MS));
  for (const ch of chars.slice(0, 200)) {
    emitTelemetry(b, 'interaction_key', 'interaction', {
      ...eventContext(b),
      key: ch,
      selector: 'html > body',
      tag: 'BODY',
    });
  }
}

async function pressKey(sim: SimContext, b: BrowserRecord, a: PressKey, prefix = ''): Promise<void> {
  checkKeys(a.keys, `${where(prefix)}keys`);
  checkKeys(a.hold_keys ?? [], `${where(prefix)}hold_keys`);
  if (a.duration) await sim.timers.sleep(Math.min(a.duration, MAX_WAIT_MS));
  for (const key of a.keys) {
    emitTelemetry(b, 'interaction_key', 'interaction', {
      ...eventContext(b),
      key,
      selector: 'html > body',
      tag: 'BODY',
    });
  }
}

function scroll(b: BrowserRecord, a: Scroll, prefix = ''): void {
  checkPoint(b, a.x, a.y, where(prefix));
  checkKeys(a.hold_keys ?? [], `${where(prefix)}hold_keys`);
  b.mouse = { x: a.x, y: a.y };
  const from = { ...b.scroll };
  b.scroll = {
    x: Math.max(0, b.scroll.x + (a.delta_x ?? 0) * WHEEL_PX),
    y: Math.max(0, b.scroll.y + (a.delta_y ?? 0) * WHEEL_PX),
  };
  emitTelemetry(b, 'interaction_scroll_settled', 'interaction', {
    ...eventContext(b),
    from_x: from.x,
    from_y: from.y,
    to_x: b.scroll.x,
    to_y: b.scroll.y,
    target_selector: 'html',
  });
}

async function drag(sim: SimContext, b: BrowserRecord, a: Drag, prefix = ''): Promise<void> {
  a.path.forEach((point, i) => {
    checkPoint(b, point[0] ?? -1, point[1] ?? -1, `${where(prefix)}path[${i}].`);
  });
  checkKeys(a.hold_keys ?? [], `${where(prefix)}hold_keys`);
  if (a.delay) await sim.timers.sleep(Math.min(a.delay, MAX_WAIT_MS));
  const last = a.path[a.path.length - 1] ?? [b.mouse.x, b.mouse.y];
  b.mouse = { x: last[0] ?? b.mouse.x, y: last[1] ?? b.mouse.y };
}

/** The action types of the spec's ComputerAction (each names the field that carries its parameters). */
const COMPUTER_ACTION_TYPES = componentEnum('ComputerAction', 'type');

interface ComputerAction {
  type: string;
  [key: string]: unknown;
}

/** Batch: the whole body is validated first; execution then stops at the first failing action. */
async function batch(sim: SimContext, b: BrowserRecord, actions: ComputerAction[]): Promise<void> {
  actions.forEach((action, i) => {
    if (action[action.type] === undefined) {
      throw badRequest(`actions[${i}].${action.type} is required when type is ${action.type}`);
    }
    for (const other of COMPUTER_ACTION_TYPES) {
      if (other !== action.type && action[other] !== undefined) {
        throw badRequest(`actions[${i}].${other} is not allowed when type is ${action.type}`);
      }
    }
  });
  for (const [i, action] of actions.entries()) {
    const prefix = `actions[${i}].${action.type}`;
    const a = action[action.type];
    switch (action.type) {
      case 'click_mouse':
        click(b, a as Click, prefix);
        break;
      case 'move_mouse':
        await move(sim, b, a as Move, prefix);
        break;
      case 'type_text':
        await typeText(sim, b, a as TypeText);
        break;
      case 'press_key':
        await pressKey(sim, b, a as PressKey, prefix);
        break;
      case 'scroll':
        scroll(b, a as Scroll, prefix);
        break;
      case 'drag_mouse':
        await drag(sim, b, a as Drag, prefix);
        break;
      case 'set_cursor':
        b.cursorHidden = (a as { hidden: boolean }).hidden;
        break;
      case 'sleep':
        await sim.timers.sleep((a as { duration_ms: number }).duration_ms);
        break;
    }
  }
}

export function screenshotPng(
  b: BrowserRecord,
  region?: { x: number; y: number; width: number; height: number },
): Buffer {
  const { width, height } = b.viewport;
  const frame = renderScreen(
    {
      width,
      height,
      background: pageColor(b.page.url, stableHash(b.page.url)),
      toolbar: !b.kioskMode && !b.headless,
      cursor: b.cursorHidden ? undefined : b.mouse,
    },
    region,
  );
  return encodePng(frame);
}

function screenshot(ctx: Ctx): Reply {
  const b = requireBrowser(ctx);
  const region = bodyOf<{ region?: { x: number; y: number; width: number; height: number } }>(ctx).region;
  if (region) {
    const { width, height } = b.viewport;
    if (region.width < 1 || region.height < 1) throw badRequest('region.width and region.height must be >= 1');
    if (region.x < 0 || region.y < 0 || region.x + region.width > width || region.y + region.height > height) {
      throw badRequest(`region must lie within the ${width}x${height} viewport`);
    }
  }
  return bytes(200, screenshotPng(b, region), 'image/png');
}

/** Route for an action endpoint answering 200 with no body. */
function action(
  path: string,
  operationId: string,
  run: (sim: SimContext, b: BrowserRecord, body: never) => void | Promise<void>,
): Route {
  return {
    method: 'POST',
    path: `/browsers/{id}/computer/${path}`,
    operationId,
    handler: async (ctx) => {
      await run(ctx.sim, requireBrowser(ctx), ctx.body as never);
      return empty(200);
    },
  };
}

export const COMPUTER_ROUTES: Route[] = [
  action('click_mouse', 'clickMouse', (_s, b, a: Click) => click(b, a)),
  action('move_mouse', 'moveMouse', (s, b, a: Move) => move(s, b, a)),
  action('type', 'typeText', (s, b, a: TypeText) => typeText(s, b, a)),
  action('press_key', 'pressKey', (s, b, a: PressKey) => pressKey(s, b, a)),
  action('scroll', 'scroll', (_s, b, a: Scroll) => scroll(b, a)),
  action('drag_mouse', 'dragMouse', (s, b, a: Drag) => drag(s, b, a)),
  action('batch', 'batchComputerAction', (s, b, a: { actions: ComputerAction[] }) => batch(s, b, a.actions)),
  action('clipboard/write', 'writeClipboard', (_s, b, a: { text: string }) => {
    b.clipboard = a.text;
  }),
  {
    method: 'POST',
    path: '/browsers/{id}/computer/screenshot',
    operationId: 'takeScreenshot',
    handler: screenshot,
  },
  {
    method: 'POST',
    path: '/browsers/{id}/computer/cursor',
    operationId: 'setCursor',
    handler: (ctx) => {
      requireBrowser(ctx).cursorHidden = bodyOf<{ hidden: boolean }>(ctx).hidden;
      return json(200, { ok: true });
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/computer/get_mouse_position',
    operationId: 'getMousePosition',
    handler: (ctx) => {
      const { x, y } = requireBrowser(ctx).mouse;
      return json(200, { x, y });
    },
  },
  {
    method: 'POST',
    path: '/browsers/{id}/computer/clipboard/read',
    operationId: 'readClipboard',
    handler: (ctx) => json(200, { text: requireBrowser(ctx).clipboard }),
  },
];
