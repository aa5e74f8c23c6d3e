/**
 * Screenshots an agent can afford, and coordinates that land where it sees them: the built CLI over stdio (both
 * eras) against the simulator in this process, so the test reads the viewport pixel the simulator recorded.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../simulator/index.js';
import { connectStdio, ERAS, type McpSession, type ToolResult, text } from './helpers/mcp.js';

const KEY = 'sk_screenshots_e2e_0123456789';
type Json = Record<string, unknown>;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: KEY });
});
afterAll(async () => {
  await sim?.close();
});

function ok(result: ToolResult): Json {
  expect(result.isError, text(result)).toBeFalsy();
  return result.structuredContent as Json;
}

/** The mouse position the simulator recorded, in viewport pixels (straight from the API, not through the server). */
async function rawMouse(id: string): Promise<{ x: number; y: number }> {
  const res = await fetch(`${sim.url}/browsers/${id}/computer/get_mouse_position`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { x: number; y: number };
}

async function image(result: ToolResult): Promise<{ format?: string; width?: number; height?: number }> {
  const block = result.content.find((c) => c.type === 'image');
  expect(block?.data).toBeTruthy();
  return sharp(Buffer.from(block!.data!, 'base64')).metadata();
}

describe.each(ERAS)('screenshots and coordinates (%s client)', (era) => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio(era, {
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
      args: ['--tools', 'browsers_computer_batch,browsers_computer_get_mouse_position,browsers_update'],
    });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('scales a 1920x1080 screenshot to 1568 px as JPEG and says so', async () => {
    const id = ok(await mcp.call('browsers_create', {})).session_id as string;
    const shot = await mcp.call('browsers_computer_capture_screenshot', { id });
    const info = ok(shot);
    expect(info).toMatchObject({
      media_type: 'image/jpeg',
      width: 1568,
      height: 882,
      original_width: 1920,
      original_height: 1080,
    });
    expect(info.scale).toBeCloseTo(1568 / 1920, 3);
    expect(await image(shot)).toMatchObject({ format: 'jpeg', width: 1568, height: 882 });
    const png = await mcp.call('browsers_computer_capture_screenshot', { id, format: 'png' });
    expect(await image(png)).toMatchObject({ format: 'png', width: 1568, height: 882 });
    const low = ok(await mcp.call('browsers_computer_capture_screenshot', { id, quality: 20 }));
    expect(low.bytes as number).toBeLessThan(info.bytes as number);
  });

  it('a click at a point read off the scaled screenshot lands on the matching viewport pixel', async () => {
    const id = ok(await mcp.call('browsers_create', { viewport: { width: 2560, height: 1440 } })).session_id as string;
    const shot = ok(await mcp.call('browsers_computer_capture_screenshot', { id }));
    expect([shot.width, shot.height]).toEqual([1568, 882]);
    // A point three quarters across and a third down the image the agent sees.
    const x = Math.round((shot.width as number) * 0.75);
    const y = Math.round((shot.height as number) / 3);
    ok(await mcp.call('browsers_computer_click_mouse', { id, x, y }));
    const raw = await rawMouse(id);
    expect(raw.x).toBe(Math.round((x * 2560) / 1568));
    expect(raw.y).toBe(Math.round((y * 1440) / 882));
    // The position comes back in the screenshot's space.
    expect(ok(await mcp.call('browsers_computer_get_mouse_position', { id }))).toMatchObject({ x, y });
    // Drag paths and the actions of a batch are scaled too.
    ok(
      await mcp.call('browsers_computer_drag_mouse', {
        id,
        path: [
          [10, 10],
          [784, 441],
        ],
      }),
    );
    expect(await rawMouse(id)).toEqual({ x: 1280, y: 720 });
    ok(
      await mcp.call('browsers_computer_batch', {
        id,
        actions: [{ type: 'move_mouse', move_mouse: { x: 1567, y: 881, smooth: false } }],
      }),
    );
    expect(await rawMouse(id)).toEqual({ x: Math.round((1567 * 2560) / 1568), y: Math.round((881 * 1440) / 882) });
  });

  it('after browsers_update resizes the viewport, clicks scale to the new size', async () => {
    const id = ok(await mcp.call('browsers_create', { viewport: { width: 2560, height: 1440 } })).session_id as string;
    ok(await mcp.call('browsers_computer_click_mouse', { id, x: 784, y: 441 }));
    expect(await rawMouse(id)).toEqual({ x: 1280, y: 720 });
    // 1280x720 fits in 1568 px: screenshot space is viewport space again.
    ok(await mcp.call('browsers_update', { id, viewport: { width: 1280, height: 720 } }));
    ok(await mcp.call('browsers_computer_click_mouse', { id, x: 100, y: 200 }));
    expect(await rawMouse(id)).toEqual({ x: 100, y: 200 });
  });

  it('the descriptions say which space coordinates are in', async () => {
    const tools = await mcp.listTools();
    for (const name of ['browsers_computer_click_mouse', 'browsers_computer_drag_mouse', 'browsers_computer_scroll']) {
      const tool = tools.find((t) => t.name === name)!;
      expect(tool.description).toContain('Coordinates: pixels of the screenshots this server returns');
    }
  });
});

describe('raw viewport coordinates (--coordinates viewport)', () => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectStdio('modern', {
      env: { KERNEL_API_KEY: KEY, KERNEL_BASE_URL: sim.url },
      args: ['--coordinates', 'viewport', '--screenshot-max-edge', '1000'],
    });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('passes coordinates through and still scales screenshots', async () => {
    const id = ok(await mcp.call('browsers_create', {})).session_id as string;
    const shot = ok(await mcp.call('browsers_computer_capture_screenshot', { id }));
    expect([shot.width, shot.height]).toEqual([1000, 563]);
    expect(shot.note).toContain('viewport pixels');
    ok(await mcp.call('browsers_computer_click_mouse', { id, x: 1500, y: 900 }));
    expect(await rawMouse(id)).toEqual({ x: 1500, y: 900 });
    const click = (await mcp.listTools()).find((t) => t.name === 'browsers_computer_click_mouse')!;
    expect(click.description).toContain('Coordinates: raw viewport pixels');
  });
});
