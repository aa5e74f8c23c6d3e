/** The simulated screen the screenshots show, and its PNG encoding (pngjs, 8-bit RGB). */
import pngjs from 'pngjs';

export type Rgb = readonly [number, number, number];

/** An RGB framebuffer covering a window (x0, y0, width, height) of a larger screen. */
export class Frame {
  readonly pixels: Buffer;
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = Buffer.alloc(width * height * 3);
  }

  /** Fills a screen-coordinate rectangle, clipped to this frame. */
  fillRect(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    const left = Math.max(x, this.x0);
    const top = Math.max(y, this.y0);
    const right = Math.min(x + w, this.x0 + this.width);
    const bottom = Math.min(y + h, this.y0 + this.height);
    if (left >= right || top >= bottom) return;
    const span = right - left;
    const row = Buffer.alloc(span * 3);
    for (let i = 0; i < span; i++) {
      row[i * 3] = r;
      row[i * 3 + 1] = g;
      row[i * 3 + 2] = b;
    }
    for (let yy = top; yy < bottom; yy++) {
      row.copy(this.pixels, ((yy - this.y0) * this.width + (left - this.x0)) * 3);
    }
  }

  pixel(x: number, y: number): Rgb | undefined {
    const lx = x - this.x0;
    const ly = y - this.y0;
    if (lx < 0 || ly < 0 || lx >= this.width || ly >= this.height) return undefined;
    const i = (ly * this.width + lx) * 3;
    return [this.pixels[i] ?? 0, this.pixels[i + 1] ?? 0, this.pixels[i + 2] ?? 0];
  }
}

export function encodePng(frame: Frame): Buffer {
  const { width, height, pixels } = frame;
  // As before the library: no row filter and zlib's default strategy at level 6. pngjs's defaults (adaptive
  // filters, level 9 run-length) are 3x slower and 150x larger on these flat screens.
  return pngjs.PNG.sync.write({ width, height, data: pixels } as pngjs.PNG, {
    colorType: 2,
    inputColorType: 2,
    inputHasAlpha: false,
    filterType: 0,
    deflateLevel: 6,
    deflateStrategy: 0,
  });
}

export interface ScreenState {
  width: number;
  height: number;
  /** Page background, derived from the current URL. */
  background: Rgb;
  /** Draw the browser toolbar (not in kiosk mode / headless). */
  toolbar: boolean;
  cursor?: { x: number; y: number };
}

export const CURSOR_COLOR: Rgb = [20, 20, 20];
export const TOOLBAR_HEIGHT = 72;

/** Renders the simulated screen (or the region of it) into a frame. */
export function renderScreen(
  s: ScreenState,
  region: { x: number; y: number; width: number; height: number } = { x: 0, y: 0, width: s.width, height: s.height },
): Frame {
  const f = new Frame(region.x, region.y, region.width, region.height);
  f.fillRect(0, 0, s.width, s.height, s.background);
  if (s.toolbar) {
    const bar = Math.min(TOOLBAR_HEIGHT, s.height);
    f.fillRect(0, 0, s.width, bar, [222, 225, 230]);
    f.fillRect(16, Math.floor(bar / 2) - 14, Math.max(0, s.width - 32), 28, [255, 255, 255]);
  }
  // A few "content" blocks so the page is not a flat colour.
  const top = s.toolbar ? Math.min(TOOLBAR_HEIGHT, s.height) : 0;
  const [r, g, b] = s.background;
  const ink: Rgb = [Math.max(0, r - 90), Math.max(0, g - 90), Math.max(0, b - 90)];
  f.fillRect(Math.floor(s.width * 0.1), top + 40, Math.floor(s.width * 0.5), 24, ink);
  f.fillRect(Math.floor(s.width * 0.1), top + 84, Math.floor(s.width * 0.7), 12, ink);
  f.fillRect(Math.floor(s.width * 0.1), top + 104, Math.floor(s.width * 0.6), 12, ink);
  if (s.cursor) {
    // Arrow-ish cursor: a right triangle 16px tall with its tip at the pointer position.
    for (let i = 0; i < 16; i++)
      f.fillRect(s.cursor.x, s.cursor.y + i, Math.max(1, Math.floor(i * 0.7)), 1, CURSOR_COLOR);
  }
  return f;
}

/** A pastel colour derived from a string (white for about:blank). */
export function pageColor(url: string, hash: number): Rgb {
  if (url === 'about:blank' || url === '') return [255, 255, 255];
  return [180 + (hash & 0x3f), 180 + ((hash >>> 6) & 0x3f), 180 + ((hash >>> 12) & 0x3f)];
}
