// Summarizes a V8 .cpuprofile (from node --cpu-prof): self time per function, inclusive time
// per function, and self time per package/area, so a benchmark run can say where the CPU went.
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} CpuProfile
 */

/** Where a function lives, shortened: package name, roomcast file, or node internals. */
export function areaOf(/** @type {string} */ url, /** @type {string} */ name) {
  if (!url) {
    if (name.startsWith('(')) return name; // (garbage collector), (program), (idle)
    return '(native)';
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const pkg = /packages\/([^/]+)\/(?:dist|src)\/(.*)$/.exec(url);
  if (pkg) return `roomcast:${pkg[1]}/${pkg[2].replace(/\.js$/, '')}`;
  if (url.startsWith('node:internal/')) return 'node:' + url.slice('node:internal/'.length).split('/')[0];
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

/**
 * @param {CpuProfile} profile
 * @param {number} top
 * @param {Array<[number, number]> | null} windows  only samples inside these [start, end] µs
 *   ranges of the monotonic clock (the one process.hrtime and V8 profiles use); null: all
 */
export function summarizeProfile(profile, top = 25, windows = null) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, number>} self µs per node */
  const selfUs = new Map();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (windows !== null && !windows.some(([a, b]) => t >= a && t <= b)) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  let total = 0;
  let idle = 0;
  const key = (/** @type {ProfileNode} */ n) => {
    const f = n.callFrame;
    const area = areaOf(f.url, f.functionName);
    const file = f.url.split('/').pop()?.replace(/\.m?js$/, '') ?? '';
    const where = f.url ? `${area}${area.endsWith(file) ? '' : `/${file}`}:${f.lineNumber + 1}` : area;
    return `${f.functionName || '(anonymous)'}  ${where}`;
  };
  /** @type {Map<string, number>} */
  const selfByFn = new Map();
  /** @type {Map<string, number>} */
  const selfByArea = new Map();
  /** @type {Map<string, number>} */
  const inclByFn = new Map();
  for (const [id, us] of selfUs) {
    const n = /** @type {ProfileNode} */ (byId.get(id));
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const k = key(n);
    selfByFn.set(k, (selfByFn.get(k) ?? 0) + us);
    const area = areaOf(n.callFrame.url, n.callFrame.functionName);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    // Inclusive: each function once per stack, however often it recurses.
    /** @type {Set<string>} */
    const seen = new Set();
    for (let cur = /** @type {number | undefined} */ (id); cur !== undefined; cur = parent.get(cur)) {
      const node = /** @type {ProfileNode} */ (byId.get(cur));
      if (node.callFrame.functionName === '(root)') break;
      const kk = key(node);
      if (seen.has(kk)) continue;
      seen.add(kk);
      inclByFn.set(kk, (inclByFn.get(kk) ?? 0) + us);
    }
  }
  const rows = (/** @type {Map<string, number>} */ m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((1000 * us) / Math.max(1, total)) / 10 }));
  return {
    busyMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    self: rows(selfByFn),
    inclusive: rows(inclByFn),
    areas: rows(selfByArea),
  };
}

export function summarizeProfileFile(/** @type {string} */ path, top = 25, /** @type {Array<[number, number]> | null} */ windows = null) {
  return summarizeProfile(JSON.parse(readFileSync(path, 'utf8')), top, windows);
}

/** Plain-text rendering of a summary. */
export function formatProfile(/** @type {ReturnType<typeof summarizeProfile>} */ s, title = '') {
  const lines = [];
  if (title) lines.push(title);
  lines.push(`busy ${s.busyMs} ms, idle ${s.idleMs} ms`);
  const block = (/** @type {string} */ head, /** @type {{name: string, ms: number, pct: number}[]} */ rows) => {
    lines.push('', head);
    for (const r of rows) lines.push(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(1).padStart(8)} ms  ${r.name}`);
  };
  block('self time by area (share of busy time):', s.areas);
  block('self time by function:', s.self);
  block('inclusive time by function:', s.inclusive);
  return lines.join('\n');
}
