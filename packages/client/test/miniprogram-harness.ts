import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createContext, runInContext, type Context } from 'node:vm';
import WebSocket from 'ws';
import { Signal, waitUntil } from '../../../test/wait.js';

// A headless WeChat mini program for tests: it loads the example's CommonJS files the way the
// mini program runtime does (each file wrapped in a function that receives `require`, `module`,
// `exports` and the platform's `wx`, `App`, `Page`, `getApp`, `getCurrentPages`), keeps a page
// stack driven by wx.navigateTo / redirectTo / reLaunch / navigateBack, and gives every instance
// its own JavaScript realm and `wx`. The realm has the language's built-ins, timers and console,
// and nothing of Node's or a browser's (no TextEncoder, URL, fetch, crypto, WebSocket, Buffer,
// process), so the vendored SDK and the pages run with no more than the oldest base library
// offers. The `wx`: sockets on `ws`, downloadFile over HTTP, a file system for temp files, storage,
// chooseMedia returning a prepared picture, and records of toasts and downloads. Two instances
// are two phones. (A small harness instead of miniprogram-simulate: that one renders components
// only, not Page(), and pulls in deprecated packages such as glob@7 and inflight.)

/** A 1×1 PNG: what the chooseMedia stand-in "picks". */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

type Callbacks<R> = { success?: (res: R) => void; fail?: (err: { errMsg: string }) => void; complete?: () => void };
type Listener = (res: any) => void;

/** A page instance as the page's own code sees it (`this`), plus what the harness adds. */
export type PageInstance = Record<string, any> & {
  data: Record<string, any>;
  route: string;
  /** Settles when onLoad (and onShow) did: pages here do their async set-up in onLoad. */
  ready: Promise<void>;
  setData(patch: Record<string, unknown>, callback?: () => void): void;
};

export interface Download {
  url: string;
  header: Record<string, string>;
  statusCode?: number;
  tempFilePath?: string;
}

/** Sets `data[path] = value` for setData paths such as `a.b`, `list[3].src`. */
function setPath(data: Record<string, any>, path: string, value: unknown): void {
  const keys = path.match(/[^.[\]]+/g) ?? [path];
  let at: any = data;
  keys.forEach((k, i) => {
    const key = /^\d+$/.test(k) ? Number(k) : k;
    if (i === keys.length - 1) at[key] = value;
    else at = at[key] ??= /^\d+$/.test(keys[i + 1] ?? '') ? [] : {};
  });
}

function parseUrl(url: string): { route: string; query: Record<string, string> } {
  const [path = '', search = ''] = url.split('?');
  const query: Record<string, string> = {};
  // Like the platform: values are handed to onLoad as they are in the URL (not decoded).
  for (const pair of search.split('&').filter(Boolean)) {
    const at = pair.indexOf('=');
    query[at < 0 ? pair : pair.slice(0, at)] = at < 0 ? '' : pair.slice(at + 1);
  }
  return { route: path.replace(/^\//, ''), query };
}

export interface MiniProgramOptions {
  /** The mini program's folder (with app.js and app.json). */
  root: string;
  /** What config.js exports: this stands in for editing it. */
  config: Record<string, unknown>;
  /** Storage to start with (another phone's, to test coming back). */
  storage?: Map<string, unknown>;
}

export class MiniProgram {
  readonly signal = new Signal();
  readonly storage: Map<string, unknown>;
  readonly toasts: Array<{ title: string; icon?: string }> = [];
  readonly downloads: Download[] = [];
  readonly sockets: WebSocket[] = [];
  readonly navigations: string[] = [];
  /** Errors thrown (or rejected) by page code the platform called. */
  readonly errors: unknown[] = [];
  readonly stack: PageInstance[] = [];
  readonly wx: Record<string, any>;
  app: Record<string, any> = {};
  readonly pages: string[];
  private readonly modules = new Map<string, { exports: any }>();
  private readonly definitions = new Map<string, Record<string, any>>();
  private readonly tmp = mkdtempSync(join(tmpdir(), 'roomcast-mp-'));
  private files = 0;
  private readonly realm: Context = createContext({ setTimeout, clearTimeout, setInterval, clearInterval, console });
  /** The realm's ArrayBuffer: what wx hands to page code is made there, as on the platform. */
  private readonly RealmArrayBuffer = runInContext('ArrayBuffer', this.realm) as ArrayBufferConstructor;
  private readonly handedOut = new WeakSet<PageInstance>();

  constructor(private readonly options: MiniProgramOptions) {
    this.storage = options.storage ?? new Map();
    this.wx = this.makeWx();
    this.pages = (JSON.parse(readFileSync(join(options.root, 'app.json'), 'utf8')) as { pages: string[] }).pages;
    this.modules.set(resolve(options.root, 'config.js'), { exports: options.config });
    this.require(resolve(options.root, 'app.js'));
  }

  /** Launches the mini program at its first page (app.json), like opening it. */
  launch(): PageInstance {
    return this.open(`/${this.pages[0]}`);
  }

  /** `typeof name` in the mini program's realm. */
  typeOf(name: string): string {
    return runInContext(`typeof ${name}`, this.realm) as string;
  }

  /** What `route`'s file passed to Page(), loading it if need be. */
  definition(route: string): Record<string, any> {
    const file = resolve(this.options.root, `${route}.js`);
    this.require(file);
    const def = this.definitions.get(file);
    if (!def) throw new Error(`${route}.js did not call Page()`);
    return def;
  }

  /** The page on top of the stack. */
  get top(): PageInstance {
    const page = this.stack[this.stack.length - 1];
    if (!page) throw new Error('no page is open');
    return page;
  }

  /**
   * Waits, re-checking whenever a page's data, the toasts or the page stack change. Fails at once
   * when page code shows a toast (how these pages report failures) or throws during the wait.
   */
  until<T>(check: () => T, what: string): Promise<Exclude<T, undefined | null | false>> {
    const toasts = this.toasts.length;
    const errors = this.errors.length;
    const checked = () => {
      if (this.toasts.length > toasts || this.errors.length > errors) {
        throw new Error(`while waiting for ${what}: toast ${JSON.stringify(this.toasts.slice(toasts))}, errors ${this.errors.slice(errors).map(String).join('; ')}`);
      }
      return check();
    };
    return waitUntil(checked, { what, on: this.signal.on, seen: () => `route ${this.stack.at(-1)?.route}, toasts ${JSON.stringify(this.toasts)}, errors ${this.errors.map(String).join('; ')}` });
  }

  /** Waits until a page at `route` that this has not returned before is on top and loaded. */
  async page(route: string): Promise<PageInstance> {
    const page = await this.until(() => {
      const top = this.stack.at(-1);
      return top?.route === route && !this.handedOut.has(top) && top;
    }, `a new page ${route}`);
    this.handedOut.add(page);
    await page.ready;
    return page;
  }

  /** Closes what is left: pages (onUnload) and any socket still open. */
  close(): void {
    while (this.stack.length > 0) this.lifecycle(this.stack.pop(), 'onUnload');
    for (const ws of this.sockets) ws.terminate();
  }

  private notify(): void {
    this.signal.notify();
  }

  // ---- modules, App and Page ---------------------------------------------------------------------

  private require(file: string): any {
    const cached = this.modules.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as any };
    this.modules.set(file, module);
    const source = readFileSync(file, 'utf8');
    const wrapped = runInContext(`(function (require, module, exports, wx, App, Page, getApp, getCurrentPages) {${source}\n})`, this.realm, { filename: file }) as (...args: unknown[]) => void;
    const local = (spec: string) => this.require(resolve(dirname(file), spec.endsWith('.js') ? spec : `${spec}.js`));
    wrapped(
      local,
      module,
      module.exports,
      this.wx,
      (def: Record<string, any>) => {
        this.app = this.instance(def);
      },
      (def: Record<string, any>) => {
        this.definitions.set(file, def);
      },
      () => this.app,
      () => [...this.stack],
    );
    return module.exports;
  }

  /** A new instance of an App or Page definition: methods as they are, other fields deep-copied. */
  private instance(def: Record<string, any>): Record<string, any> {
    const inst: Record<string, any> = {};
    for (const [k, v] of Object.entries(def)) inst[k] = typeof v === 'function' ? v : structuredClone(v);
    return inst;
  }

  private open(url: string): PageInstance {
    const { route, query } = parseUrl(url);
    if (!this.pages.includes(route)) throw new Error(`navigateTo:fail page "${route}" is not in app.json`);
    const page = this.instance(this.definition(route)) as PageInstance;
    page.data ??= {};
    page.route = route;
    page.options = query;
    page.setData = (patch, callback) => {
      for (const [path, value] of Object.entries(patch)) {
        JSON.stringify(value); // what crosses to the view must be plain data
        setPath(page.data, path, value);
      }
      this.notify();
      callback?.();
    };
    this.stack.push(page);
    page.ready = (async () => {
      await this.lifecycle(page, 'onLoad', query);
      await this.lifecycle(page, 'onShow');
    })();
    this.notify();
    return page;
  }

  /** Calls a lifecycle method; what it throws or rejects with is recorded, as the platform logs it. */
  private async lifecycle(page: PageInstance | undefined, name: string, ...args: unknown[]): Promise<void> {
    const fn = page?.[name];
    if (typeof fn !== 'function') return;
    try {
      await fn.apply(page, args);
    } catch (err) {
      this.errors.push(err);
      this.notify();
    }
  }

  private navigate(kind: 'navigateTo' | 'redirectTo' | 'reLaunch', options: { url: string } & Callbacks<object>): void {
    this.navigations.push(`${kind} ${options.url}`);
    // The platform navigates asynchronously, after the calling code has run.
    setImmediate(() => {
      if (kind === 'navigateTo') void this.lifecycle(this.stack.at(-1), 'onHide');
      if (kind === 'redirectTo') void this.lifecycle(this.stack.pop(), 'onUnload');
      if (kind === 'reLaunch') while (this.stack.length > 0) void this.lifecycle(this.stack.pop(), 'onUnload');
      this.open(options.url);
      options.success?.({ errMsg: `${kind}:ok` });
    });
  }

  // ---- wx --------------------------------------------------------------------------------------------

  /** A copy of `bytes` in an ArrayBuffer of the mini program's realm. */
  private arrayBuffer(bytes: Uint8Array): ArrayBuffer {
    const out = new this.RealmArrayBuffer(bytes.byteLength);
    new Uint8Array(out).set(bytes);
    return out;
  }

  private tempFile(ext: string, bytes: Uint8Array): string {
    const path = join(this.tmp, `tmp_${++this.files}.${ext}`);
    writeFileSync(path, bytes);
    return path;
  }

  private makeWx(): Record<string, any> {
    const mp = this;
    const networkListeners = new Set<Listener>();
    const showListeners = new Set<Listener>();
    return {
      connectSocket(options: { url: string; header?: Record<string, string>; protocols?: string[] } & Callbacks<object>) {
        if (!/^wss?:\/\//.test(options.url)) throw new Error('connectSocket:fail invalid url');
        const ws = new WebSocket(options.url, options.protocols ?? [], { headers: options.header ?? {} });
        mp.sockets.push(ws);
        const on = { open: [] as Listener[], message: [] as Listener[], close: [] as Listener[], error: [] as Listener[] };
        ws.on('open', () => {
          options.success?.({ errMsg: 'connectSocket:ok' });
          for (const l of on.open) l({ header: {}, profile: {} });
        });
        ws.on('message', (data: Buffer, isBinary: boolean) => {
          const payload = isBinary ? mp.arrayBuffer(data) : data.toString('utf8');
          for (const l of on.message) l({ data: payload });
        });
        ws.on('close', (code, reason) => {
          for (const l of on.close) l({ code, reason: reason.toString() });
        });
        ws.on('error', (err) => {
          options.fail?.({ errMsg: `connectSocket:fail ${err.message}` });
          for (const l of on.error) l({ errMsg: err.message });
        });
        return {
          onOpen: (l: Listener) => void on.open.push(l),
          onMessage: (l: Listener) => void on.message.push(l),
          onClose: (l: Listener) => void on.close.push(l),
          onError: (l: Listener) => void on.error.push(l),
          send({ data, success, fail }: { data: unknown } & Callbacks<object>) {
            // Only a string or an ArrayBuffer (of any realm): typed arrays are refused, as on the platform.
            const isBuffer = Object.prototype.toString.call(data) === '[object ArrayBuffer]';
            if (typeof data !== 'string' && !isBuffer) return fail?.({ errMsg: 'sendSocketMessage:fail parameter.data should be String or ArrayBuffer' });
            if (ws.readyState !== WebSocket.OPEN) return fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' });
            if (typeof data === 'string') ws.send(data);
            else ws.send(Buffer.from(new Uint8Array(data as ArrayBuffer)), { binary: true });
            return success?.({ errMsg: 'sendSocketMessage:ok' });
          },
          close({ code = 1000, reason = '', success, fail }: { code?: number; reason?: string } & Callbacks<object>) {
            if (code !== 1000 && (code < 3000 || code > 4999)) return fail?.({ errMsg: `closeSocket:fail bad code ${code}` });
            ws.close(code, reason);
            return success?.({ errMsg: 'closeSocket:ok' });
          },
        };
      },

      downloadFile(options: { url: string; header?: Record<string, string> } & Callbacks<{ statusCode: number; tempFilePath: string }>) {
        const record: Download = { url: options.url, header: { ...options.header } };
        mp.downloads.push(record);
        if (!/^https?:\/\//.test(options.url)) return options.fail?.({ errMsg: 'downloadFile:fail invalid url' });
        if (Object.keys(record.header).some((h) => h.toLowerCase() === 'referer')) return options.fail?.({ errMsg: 'downloadFile:fail Referer cannot be set' });
        fetch(options.url, { headers: record.header })
          .then(async (res) => {
            const bytes = new Uint8Array(await res.arrayBuffer());
            const ext = (res.headers.get('content-type') ?? '').split('/')[1]?.split(';')[0] ?? 'bin';
            record.statusCode = res.status;
            record.tempFilePath = mp.tempFile(ext, bytes);
            options.success?.({ statusCode: res.status, tempFilePath: record.tempFilePath });
          })
          .catch((err: Error) => options.fail?.({ errMsg: `downloadFile:fail ${err.message}` }))
          .finally(() => {
            options.complete?.();
            mp.notify();
          });
        return { abort() {}, onProgressUpdate() {} };
      },

      getFileSystemManager() {
        return {
          readFile(options: { filePath: string; encoding?: string } & Callbacks<{ data: ArrayBuffer | string }>) {
            setImmediate(() => {
              try {
                const b = readFileSync(options.filePath);
                options.success?.({ data: options.encoding ? b.toString(options.encoding as BufferEncoding) : mp.arrayBuffer(b) });
              } catch (err) {
                options.fail?.({ errMsg: `readFile:fail ${(err as Error).message}` });
              }
            });
          },
        };
      },

      chooseMedia(options: Callbacks<{ tempFiles: Array<{ tempFilePath: string; size: number; fileType: string }>; type: string }>) {
        const tempFilePath = mp.tempFile('png', PNG);
        setImmediate(() => options.success?.({ tempFiles: [{ tempFilePath, size: PNG.byteLength, fileType: 'image' }], type: 'image' }));
      },

      setStorageSync: (key: string, value: unknown) => void mp.storage.set(key, structuredClone(value)),
      getStorageSync: (key: string) => (mp.storage.has(key) ? mp.storage.get(key) : ''),
      removeStorageSync: (key: string) => void mp.storage.delete(key),

      showToast(options: { title: string; icon?: string }) {
        mp.toasts.push({ title: options.title, ...(options.icon ? { icon: options.icon } : {}) });
        mp.notify();
      },
      setNavigationBarTitle() {},
      stopPullDownRefresh() {},
      previewImage() {},

      navigateTo: (o: { url: string }) => mp.navigate('navigateTo', o),
      redirectTo: (o: { url: string }) => mp.navigate('redirectTo', o),
      reLaunch: (o: { url: string }) => mp.navigate('reLaunch', o),
      navigateBack(o: { delta?: number } = {}) {
        mp.navigations.push('navigateBack');
        setImmediate(() => {
          for (let i = 0; i < (o.delta ?? 1) && mp.stack.length > 1; i++) void mp.lifecycle(mp.stack.pop(), 'onUnload');
          void mp.lifecycle(mp.stack.at(-1), 'onShow');
          mp.notify();
        });
      },

      onNetworkStatusChange: (l: Listener) => void networkListeners.add(l),
      offNetworkStatusChange: (l: Listener) => void networkListeners.delete(l),
      onAppShow: (l: Listener) => void showListeners.add(l),
      offAppShow: (l: Listener) => void showListeners.delete(l),
    };
  }
}
