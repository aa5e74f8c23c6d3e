/**
 * Playwright code, emulated without running it: a small parser reads the statements and expressions of the
 * supported subset and acts on the simulator's page model (simulator/pages.ts). Nothing the agent wrote is executed
 * (no eval, no node:vm). Anything outside the subset is an error that says so and lists what is supported, never a
 * silent success.
 */
import { ariaSnapshot, currentPage, type Element, pageHtml, select, textOf } from './pages.js';
import type { BrowserRecord } from './types.js';

export const SUPPORTED =
  'The Kernel API simulator emulates a subset of Playwright (the real API runs any code): ' +
  'page.goto/title/url/content/waitForTimeout/waitForLoadState/click/fill/textContent/innerText/evaluate, ' +
  'page.locator(sel) | getByRole(role, {name}) | getByText(text) with .textContent/innerText/ariaSnapshot/click/fill/' +
  'count/first/inputValue/getAttribute/isVisible, page.evaluate of document.title, location.href, document.body.' +
  'innerText and document.querySelector(sel).textContent, console.log/info/warn/error, const/let, return, throw; ' +
  'selectors: tag, #id, [attr=value], text=..., role=...[name=...]. Pages: example.com, forms.example/signup.';

export class Unsupported extends Error {}
/** A Playwright error the real API would answer too (a missing element, a bad URL). */
export class PlaywrightError extends Error {}

export interface Effects {
  navigate(url: string): void;
  console(level: 'log' | 'info' | 'warn' | 'error', text: string): void;
  click(e: Element): void;
  wait(ms: number): Promise<void>;
}

// ---- tokens -------------------------------------------------------------------------------------------------

type Tok = { t: 'str' | 'num' | 'id' | 'p'; v: string };

function tokenize(code: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    if (/\s/.test(c)) {
      if (c === '\n') out.push({ t: 'p', v: ';' });
      i++;
    } else if (code.startsWith('//', i)) {
      while (i < code.length && code[i] !== '\n') i++;
    } else if (code.startsWith('/*', i)) {
      const end = code.indexOf('*/', i + 2);
      i = end < 0 ? code.length : end + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let s = '';
      while (j < code.length && code[j] !== c) {
        if (code[j] === '\\') {
          const n = code[j + 1] ?? '';
          s += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else {
          if (c === '`' && code.startsWith('${', j)) throw new Unsupported('template literals with substitutions');
          s += code[j];
          j++;
        }
      }
      if (j >= code.length) throw new Unsupported('an unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^\d+(\.\d+)?/.exec(code.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][\w$]*/.exec(code.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if (code.startsWith('=>', i)) {
      out.push({ t: 'p', v: '=>' });
      i += 2;
    } else if ('.(){}[],:;=+'.includes(c)) {
      out.push({ t: 'p', v: c });
      i++;
    } else {
      throw new Unsupported(`the character ${JSON.stringify(c)}`);
    }
  }
  return out;
}

// ---- values -------------------------------------------------------------------------------------------------

interface Obj {
  kind: string;
  get?(name: string): Value;
  call?(args: Value[]): Value | Promise<Value>;
}
type Value = string | number | boolean | null | undefined | Value[] | { [k: string]: Value } | Obj | Fn;
interface Fn {
  kind: 'fn';
  body: Tok[];
}

const isObj = (v: Value): v is Obj =>
  !!v &&
  typeof v === 'object' &&
  !Array.isArray(v) &&
  typeof (v as Obj).kind === 'string' &&
  ('get' in v || 'call' in v);
const fn = (name: string, call: (args: Value[]) => Value | Promise<Value>): Obj => ({ kind: name, call });

// ---- the interpreter ----------------------------------------------------------------------------------------

export class Interpreter {
  private toks: Tok[] = [];
  private pos = 0;
  private readonly vars = new Map<string, Value>();

  constructor(
    private readonly b: BrowserRecord,
    private readonly fx: Effects,
  ) {}

  /** Runs the code; answers what it returns. */
  async run(code: string): Promise<Value> {
    this.toks = tokenize(code);
    this.pos = 0;
    while (this.pos < this.toks.length) {
      if (this.eat(';')) continue;
      const done = await this.statement();
      if (done) return done.value;
    }
    return undefined;
  }

  private peek(v?: string): Tok | undefined {
    const t = this.toks[this.pos];
    return v === undefined || t?.v === v ? t : undefined;
  }

  private eat(v: string): boolean {
    if (this.toks[this.pos]?.v === v && this.toks[this.pos]?.t !== 'str') {
      this.pos++;
      return true;
    }
    return false;
  }

  private expect(v: string): void {
    if (!this.eat(v)) throw new Unsupported(`${this.near()} (expected "${v}")`);
  }

  private near(): string {
    return `the code at "${this.toks
      .slice(this.pos, this.pos + 6)
      .map((t) => (t.t === 'str' ? JSON.stringify(t.v) : t.v))
      .join(' ')
      .replace(/ ?; ?/g, '; ')}"`;
  }

  private skipNewlines() {
    while (this.peek(';')) this.pos++;
  }

  private async statement(): Promise<{ value: Value } | undefined> {
    const t = this.peek();
    if (t?.t === 'id' && ['const', 'let', 'var'].includes(t.v)) {
      this.pos++;
      const name = this.toks[this.pos++];
      if (name?.t !== 'id') throw new Unsupported(`${this.near()} (destructuring)`);
      this.expect('=');
      this.vars.set(name.v, await this.expr());
      return undefined;
    }
    if (t?.t === 'id' && t.v === 'return') {
      this.pos++;
      if (!this.peek() || this.peek(';') || this.peek('}')) return { value: undefined };
      return { value: await this.expr() };
    }
    if (t?.t === 'id' && t.v === 'throw') {
      this.pos++;
      this.eat('new');
      const type = this.toks[this.pos++]?.v ?? 'Error';
      this.expect('(');
      const msg = this.peek(')') ? '' : String(await this.expr());
      this.expect(')');
      throw new PlaywrightError(`${type}: ${msg}`);
    }
    await this.expr();
    if (this.pos < this.toks.length && !this.eat(';')) throw new Unsupported(this.near());
    return undefined;
  }

  private async expr(): Promise<Value> {
    let left = await this.postfix();
    while (this.eat('+')) {
      this.skipNewlines();
      const right = await this.postfix();
      left = typeof left === 'number' && typeof right === 'number' ? left + right : `${show(left)}${show(right)}`;
    }
    return left;
  }

  private async postfix(): Promise<Value> {
    let value = await this.primary();
    for (;;) {
      if (this.peek(';') && this.toks[this.pos + 1]?.v === '.') this.skipNewlines();
      if (this.eat('.')) {
        const name = this.toks[this.pos++];
        if (name?.t !== 'id') throw new Unsupported(this.near());
        value = this.member(value, name.v);
      } else if (this.peek('(')) {
        const args = await this.args();
        if (!isObj(value) || !value.call) throw new Unsupported(`calling ${this.near()}`);
        value = await value.call(args);
      } else return value;
    }
  }

  private async args(): Promise<Value[]> {
    this.expect('(');
    const out: Value[] = [];
    this.skipNewlines();
    while (!this.eat(')')) {
      out.push(await this.expr());
      this.skipNewlines();
      if (!this.eat(',') && !this.peek(')')) throw new Unsupported(this.near());
      this.skipNewlines();
    }
    return out;
  }

  private async primary(): Promise<Value> {
    this.skipNewlines();
    const t = this.toks[this.pos];
    if (!t) throw new Unsupported('the end of the code (an incomplete expression)');
    if (t.t === 'str') {
      this.pos++;
      return t.v;
    }
    if (t.t === 'num') {
      this.pos++;
      return Number(t.v);
    }
    if (t.v === '(' && this.toks[this.pos + 1]?.v === ')' && this.toks[this.pos + 2]?.v === '=>') {
      this.pos += 3;
      return this.arrow();
    }
    if (this.eat('(')) {
      const v = await this.expr();
      this.expect(')');
      return v;
    }
    if (this.eat('{')) return this.object();
    if (this.eat('[')) {
      const out: Value[] = [];
      this.skipNewlines();
      while (!this.eat(']')) {
        out.push(await this.expr());
        this.skipNewlines();
        this.eat(',');
        this.skipNewlines();
      }
      return out;
    }
    if (t.t !== 'id') throw new Unsupported(this.near());
    this.pos++;
    switch (t.v) {
      case 'await':
        return this.postfix();
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'undefined':
        return undefined;
      case 'page':
        return this.page();
      case 'console':
        return this.console();
      case 'JSON':
        return {
          kind: 'JSON',
          get: (n) =>
            n === 'stringify' ? fn('stringify', (a) => JSON.stringify(plain(a[0]))) : unsupported(`JSON.${n}`),
        };
      default:
        if (this.vars.has(t.v)) return this.vars.get(t.v);
        throw new Unsupported(`\`${t.v}\``);
    }
  }

  /** An arrow function's body (an expression, or a block that returns one): kept as tokens for page.evaluate. */
  private arrow(): Fn {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.toks.length) {
      const v = this.toks[this.pos]!;
      if (v.t === 'p' && '([{'.includes(v.v)) depth++;
      if (v.t === 'p' && ')]}'.includes(v.v)) {
        if (depth === 0) break;
        depth--;
      }
      if (depth === 0 && v.t === 'p' && (v.v === ',' || v.v === ';')) break;
      this.pos++;
    }
    return { kind: 'fn', body: this.toks.slice(start, this.pos) };
  }

  private async object(): Promise<Value> {
    const out: Record<string, Value> = {};
    this.skipNewlines();
    while (!this.eat('}')) {
      const key = this.toks[this.pos++];
      if (!key || (key.t !== 'id' && key.t !== 'str')) throw new Unsupported(this.near());
      if (this.eat(':')) out[key.v] = await this.expr();
      else if (this.vars.has(key.v)) out[key.v] = this.vars.get(key.v);
      else throw new Unsupported(`\`${key.v}\``);
      this.skipNewlines();
      this.eat(',');
      this.skipNewlines();
    }
    return out;
  }

  private member(value: Value, name: string): Value {
    if (isObj(value) && value.get) return value.get(name);
    if (Array.isArray(value) && name === 'length') return value.length;
    if (typeof value === 'string' && name === 'length') return value.length;
    if (typeof value === 'string' && name === 'trim') return fn('trim', () => value.trim());
    if (value && typeof value === 'object' && !Array.isArray(value) && !isObj(value) && name in value) {
      return (value as Record<string, Value>)[name];
    }
    throw new Unsupported(`.${name}`);
  }

  // ---- page, locators, console -----------------------------------------------------------------------------

  private page(): Obj {
    const model = () => currentPage(this.b);
    const str = (v: Value, what: string) => {
      if (typeof v !== 'string') throw new Unsupported(`${what} with a non-string argument`);
      return v;
    };
    const methods: Record<string, (a: Value[]) => Value | Promise<Value>> = {
      goto: (a) => {
        const url = str(a[0], 'page.goto');
        try {
          new URL(url);
        } catch {
          throw new PlaywrightError('page.goto: Protocol error (Page.navigate): Cannot navigate to invalid URL');
        }
        this.fx.navigate(url);
        return null;
      },
      title: () => model().title,
      url: () => this.b.page.url,
      content: () => pageHtml(model()),
      waitForTimeout: async (a) => {
        await this.fx.wait(Number(a[0] ?? 0));
        return undefined;
      },
      waitForLoadState: () => undefined,
      waitForSelector: (a) => {
        this.locator(str(a[0], 'page.waitForSelector'), 'page.waitForSelector').one();
        return null;
      },
      locator: (a) => this.locatorObj(str(a[0], 'page.locator')),
      getByRole: (a) => {
        const opts = a[1] as { name?: string } | undefined;
        return this.locatorObj(`role=${str(a[0], 'page.getByRole')}${opts?.name ? `[name="${opts.name}"]` : ''}`);
      },
      getByText: (a) => this.locatorObj(`text=${str(a[0], 'page.getByText')}`),
      getByLabel: (a) => this.locatorObj(`role=textbox[name="${str(a[0], 'page.getByLabel')}"]`),
      click: (a) => this.callLocator(str(a[0], 'page.click'), 'click', []),
      fill: (a) => this.callLocator(str(a[0], 'page.fill'), 'fill', [a[1]]),
      textContent: (a) => this.callLocator(str(a[0], 'page.textContent'), 'textContent', []),
      innerText: (a) => this.callLocator(str(a[0], 'page.innerText'), 'innerText', []),
      evaluate: (a) => this.evaluate(a[0]),
    };
    return {
      kind: 'page',
      get: (name) => {
        const m = methods[name];
        if (!m) throw new Unsupported(`page.${name}`);
        return fn(`page.${name}`, m);
      },
    };
  }

  /** `page.click(sel)` and friends: the locator's method. */
  private callLocator(selector: string, method: string, args: Value[]): Value | Promise<Value> {
    const m = this.locatorObj(selector).get?.(method);
    if (!isObj(m) || !m.call) throw new Unsupported(`page.${method}`);
    return m.call(args);
  }

  private locator(selector: string, what: string) {
    const find = () => {
      const found = select(currentPage(this.b), selector);
      if (!found) throw new Unsupported(`the selector ${JSON.stringify(selector)}`);
      return found;
    };
    return {
      all: find,
      one: (): Element => {
        const found = find();
        if (!found[0]) {
          throw new PlaywrightError(
            `${what}: Timeout 30000ms exceeded.\nCall log:\n  - waiting for locator(${JSON.stringify(selector)})`,
          );
        }
        return found[0];
      },
    };
  }

  private locatorObj(selector: string, first = false): Obj {
    const loc = this.locator(selector, 'locator');
    const methods: Record<string, (a: Value[]) => Value | Promise<Value>> = {
      textContent: () => textOf(loc.one()),
      innerText: () => textOf(loc.one()),
      inputValue: () => loc.one().value ?? '',
      getAttribute: (a) => {
        const e = loc.one();
        const n = String(a[0]);
        return n === 'id' ? (e.id ?? null) : n === 'href' ? (e.href ?? null) : (e.attrs?.[n] ?? null);
      },
      ariaSnapshot: () => ariaSnapshot(first ? [loc.one()] : loc.all().length ? loc.all() : [loc.one()]),
      count: () => (first ? Math.min(1, loc.all().length) : loc.all().length),
      isVisible: () => loc.all().length > 0,
      first: () => this.locatorObj(selector, true),
      click: () => {
        this.fx.click(loc.one());
        return null;
      },
      fill: (a) => {
        const e = loc.one();
        if (e.tag !== 'input') throw new PlaywrightError('locator.fill: Error: Element is not an <input>');
        e.value = String(a[0] ?? '');
        return null;
      },
    };
    return {
      kind: 'locator',
      get: (name) => {
        const m = methods[name];
        if (!m) throw new Unsupported(`locator.${name}`);
        return fn(`locator.${name}`, m);
      },
    };
  }

  private console(): Obj {
    return {
      kind: 'console',
      get: (level) => {
        if (!['log', 'info', 'warn', 'error'].includes(level)) throw new Unsupported(`console.${level}`);
        return fn(`console.${level}`, (a) => {
          this.fx.console(level as 'log', a.map(show).join(' '));
          return undefined;
        });
      },
    };
  }

  /** page.evaluate of an arrow function or a string: the DOM reads the simulator's page model answers. */
  private async evaluate(arg: Value): Promise<Value> {
    let body: Tok[];
    if (typeof arg === 'string') body = tokenize(arg);
    else if (arg && typeof arg === 'object' && (arg as Fn).kind === 'fn') body = (arg as Fn).body;
    else throw new Unsupported('page.evaluate of anything but a function or a string');
    if (body[0]?.v === '{' && body[1]?.v === 'return') body = body.slice(2, body.at(-1)?.v === '}' ? -1 : undefined);
    const dom = new Interpreter(this.b, this.fx);
    const model = currentPage(this.b);
    const element = (e: Element | undefined): Value =>
      e
        ? {
            kind: 'element',
            get: (n) =>
              n === 'textContent' || n === 'innerText'
                ? textOf(e)
                : n === 'value'
                  ? (e.value ?? '')
                  : unsupported(`element.${n}`),
          }
        : null;
    const location: Obj = {
      kind: 'location',
      get: (n) => (n === 'href' ? this.b.page.url : unsupported(`location.${n}`)),
    };
    const document: Obj = {
      kind: 'document',
      get: (n) => {
        if (n === 'title') return model.title;
        if (n === 'URL') return this.b.page.url;
        if (n === 'body')
          return {
            kind: 'element',
            get: (p) =>
              p === 'innerText' || p === 'textContent'
                ? model.body.map(textOf).filter(Boolean).join('\n')
                : unsupported(`document.body.${p}`),
          };
        if (n === 'querySelector') return fn('querySelector', (a) => element(select(model, String(a[0]))?.[0]));
        if (n === 'querySelectorAll')
          return fn('querySelectorAll', (a) => (select(model, String(a[0])) ?? []).map((e) => element(e)));
        return unsupported(`document.${n}`);
      },
    };
    dom.vars.set('document', document);
    dom.vars.set('location', location);
    dom.vars.set('window', {
      kind: 'window',
      get: (n) => (n === 'location' ? location : n === 'document' ? document : unsupported(`window.${n}`)),
    });
    dom.toks = [...body, { t: 'p', v: ';' }];
    dom.pos = 0;
    const value = await dom.expr();
    return plain(value);
  }
}

function unsupported(what: string): never {
  throw new Unsupported(what);
}

function plain(v: Value): Value {
  if (isObj(v) || (v && typeof v === 'object' && (v as Fn).kind === 'fn'))
    throw new Unsupported('returning a Playwright object');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function show(v: Value): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return 'undefined';
  return JSON.stringify(plain(v));
}
