/**
 * The simulator's small web: a few built-in pages with an element model, so Playwright reads (title, text, ARIA
 * snapshots), form fills, console errors and failed requests can be tested without a browser.
 *
 * - `https://example.com` (and www., .org, .net): the real page's heading, paragraphs and link.
 * - `https://forms.example/signup`: a sign-up form (email, password, a button), a console error on load and a
 *   request that fails (`/api/config`, net::ERR_CONNECTION_REFUSED).
 * - any other URL: a heading with the host name and one paragraph.
 */

export interface Element {
  tag: string;
  role: string;
  /** Accessible name (label, link text, button text). */
  name?: string;
  /** Text content (paragraphs, headings). */
  text?: string;
  id?: string;
  attrs?: Record<string, string>;
  level?: number;
  href?: string;
  /** Inputs: the current value. */
  value?: string;
  /** A button that submits the page's form. */
  submits?: boolean;
  children?: Element[];
}

export interface PageModel {
  title: string;
  body: Element[];
  /** Console errors the page logs when it loads. */
  consoleErrors?: string[];
  /** Requests the page makes that fail: [url, net error]. */
  failedRequests?: [string, string][];
}

const EXAMPLE: PageModel = {
  title: 'Example Domain',
  body: [
    { tag: 'h1', role: 'heading', level: 1, text: 'Example Domain', name: 'Example Domain' },
    {
      tag: 'p',
      role: 'paragraph',
      text: 'This domain is for use in documentation examples without needing permission. Avoid use in operations.',
    },
    {
      tag: 'p',
      role: 'paragraph',
      children: [
        { tag: 'a', role: 'link', name: 'Learn more', text: 'Learn more', href: 'https://iana.org/domains/example' },
      ],
    },
  ],
};

const SIGNUP: PageModel = {
  title: 'Sign up - Forms Example',
  body: [
    { tag: 'h1', role: 'heading', level: 1, text: 'Create your account', name: 'Create your account' },
    {
      tag: 'form',
      role: 'form',
      name: 'Sign up',
      id: 'signup',
      children: [
        {
          tag: 'input',
          role: 'textbox',
          name: 'Email',
          id: 'email',
          attrs: { name: 'email', type: 'email' },
          value: '',
        },
        {
          tag: 'input',
          role: 'textbox',
          name: 'Password',
          id: 'password',
          attrs: { name: 'password', type: 'password' },
          value: '',
        },
        { tag: 'button', role: 'button', name: 'Sign up', text: 'Sign up', attrs: { type: 'submit' }, submits: true },
      ],
    },
    { tag: 'p', role: 'paragraph', id: 'status', text: '' },
  ],
  consoleErrors: ["Uncaught TypeError: Cannot read properties of undefined (reading 'init')"],
  failedRequests: [['https://forms.example/api/config', 'net::ERR_CONNECTION_REFUSED']],
};

function clone(page: PageModel): PageModel {
  return JSON.parse(JSON.stringify(page)) as PageModel;
}

/** The page model a URL loads (a fresh copy: forms start empty). */
export function pageFor(url: string): PageModel {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { title: url, body: [] };
  }
  const host = u.hostname.replace(/^www\./, '');
  if (/^example\.(com|org|net)$/.test(host) && (u.pathname === '/' || u.pathname === '')) return clone(EXAMPLE);
  if (host === 'forms.example' && u.pathname.replace(/\/$/, '') === '/signup') return clone(SIGNUP);
  if (u.protocol === 'about:') return { title: '', body: [] };
  return {
    title: host,
    body: [
      { tag: 'h1', role: 'heading', level: 1, text: host, name: host },
      { tag: 'p', role: 'paragraph', text: `Simulated page for ${u.href}` },
    ],
  };
}

/** Every element, depth first. */
export function allElements(elements: Element[]): Element[] {
  const out: Element[] = [];
  const walk = (list: Element[]) => {
    for (const e of list) {
      out.push(e);
      if (e.children) walk(e.children);
    }
  };
  walk(elements);
  return out;
}

export function textOf(e: Element): string {
  if (e.tag === 'input') return '';
  return [e.text ?? '', ...(e.children ?? []).map(textOf)].filter(Boolean).join(' ');
}

/**
 * The elements a selector matches. Supported: `tag`, `#id`, `tag#id`, `[attr="v"]`, `tag[attr=v]`, `text=...`,
 * `role=button[name="..."]`, `body`, `html`. Returns undefined for a selector the simulator does not understand.
 */
export function select(page: PageModel, selector: string): Element[] | undefined {
  const s = selector.trim();
  const body: Element = { tag: 'body', role: 'document', children: page.body };
  if (s === 'body' || s === 'html' || s === ':root') return [body];
  const all = allElements(page.body);
  const text = /^text=["']?(.*?)["']?$/.exec(s);
  if (text)
    return all.filter((e) => textOf(e).includes(text[1]!) && !e.children?.some((c) => textOf(c).includes(text[1]!)));
  const role = /^role=(\w+)(?:\[name=["'](.*)["']\])?$/.exec(s);
  if (role) return all.filter((e) => e.role === role[1] && (role[2] === undefined || e.name === role[2]));
  const css = /^([a-z][a-z0-9]*)?(?:#([\w-]+))?(?:\[([\w-]+)=["']?([^"'\]]*)["']?\])?$/.exec(s);
  if (!css || (!css[1] && !css[2] && !css[3])) return undefined;
  return all.filter(
    (e) =>
      (!css[1] || e.tag === css[1]) &&
      (!css[2] || e.id === css[2]) &&
      (!css[3] || e.attrs?.[css[3]] === css[4] || (css[3] === 'id' && e.id === css[4])),
  );
}

const q = (s: string) => JSON.stringify(s);

/** Playwright's ARIA snapshot (YAML) of elements. */
export function ariaSnapshot(elements: Element[], indent = ''): string {
  const lines: string[] = [];
  for (const e of elements) {
    if (e.role === 'document') {
      lines.push(ariaSnapshot(e.children ?? [], indent));
      continue;
    }
    const name = e.name !== undefined ? ` ${q(e.name)}` : '';
    const level = e.level ? ` [level=${e.level}]` : '';
    if (e.role === 'paragraph' && !e.children?.length) {
      if (e.text) lines.push(`${indent}- paragraph: ${e.text}`);
      continue;
    }
    if (e.role === 'textbox') {
      lines.push(`${indent}- textbox${name}${e.value ? `: ${e.value}` : ''}`);
      continue;
    }
    const kids = e.children?.length ? ariaSnapshot(e.children, `${indent}  `) : '';
    const url = e.href ? `${indent}  - /url: ${e.href}` : '';
    const nested = [kids, url].filter(Boolean).join('\n');
    lines.push(`${indent}- ${e.role}${name}${level}${nested ? ':' : ''}`);
    if (nested) lines.push(nested);
  }
  return lines.filter(Boolean).join('\n');
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function html(e: Element): string {
  const attrs = [
    e.id ? ` id="${e.id}"` : '',
    e.href ? ` href="${e.href}"` : '',
    ...Object.entries(e.attrs ?? {}).map(([k, v]) => ` ${k}="${escapeHtml(v)}"`),
    e.tag === 'input' && e.value ? ` value="${escapeHtml(e.value)}"` : '',
  ].join('');
  if (e.tag === 'input') return `<input${attrs}>`;
  const inner = [e.text ? escapeHtml(e.text) : '', ...(e.children ?? []).map(html)].join('');
  return `<${e.tag}${attrs}>${inner}</${e.tag}>`;
}

/** The page as HTML (page.content()). */
export function pageHtml(page: PageModel): string {
  return `<!DOCTYPE html><html><head><title>${escapeHtml(page.title)}</title></head><body>${page.body.map(html).join('')}</body></html>`;
}

/** Each browser's loaded page, for the URL it shows (reloaded when the URL changes). */
const loaded = new WeakMap<object, { url: string; page: PageModel }>();

/** The page a browser shows now. */
export function currentPage(b: { page: { url: string } }): PageModel {
  const held = loaded.get(b);
  if (held && held.url === b.page.url) return held.page;
  const page = pageFor(b.page.url);
  loaded.set(b, { url: b.page.url, page });
  return page;
}
