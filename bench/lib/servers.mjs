// Starting and stopping the servers under test and the generator processes, each pinned to its
// own core with taskset when the machine has two or more.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Child processes alive right now, so an interrupted run can take them down with it. */
/** @type {Set<{ kill: () => void }>} */
export const LIVE = new Set();

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(BENCH_DIR, '..');
const ROOMCAST_BIN = join(REPO_DIR, 'packages/server/bin/roomcast.js');

/**
 * @typedef {object} ServerDef
 * @property {string} label
 * @property {string} proto        wire protocol the generator speaks
 * @property {boolean} persist     roomcast: rooms keep history in SQLite
 * @property {boolean} history     whether it can replay missed messages (scenario E)
 * @property {(o: { dataDir: string, recovery: boolean, soak?: boolean }) => string[]} args  script and arguments
 */

/** @type {Record<string, ServerDef>} */
export const SERVERS = {
  roomcast: {
    label: 'roomcast (SQLite)',
    proto: 'roomcast',
    persist: true,
    history: true,
    args: ({ dataDir, soak }) => [ROOMCAST_BIN, ...roomcastArgs(dataDir, soak)],
  },
  'roomcast-eph': {
    label: 'roomcast (persist:false)',
    proto: 'roomcast',
    persist: false,
    history: false,
    args: ({ dataDir }) => [ROOMCAST_BIN, ...roomcastArgs(dataDir)],
  },
  socketio: {
    label: 'Socket.IO 4',
    proto: 'socketio',
    persist: false,
    history: true,
    args: ({ recovery }) => [join(BENCH_DIR, 'servers/socketio.mjs'), '--port', '0', '--host', '127.0.0.1', ...(recovery ? ['--recovery'] : [])],
  },
  tutorial: {
    label: 'tutorial ws',
    proto: 'tutorial',
    persist: false,
    history: false,
    args: () => [join(BENCH_DIR, 'servers/tutorial.mjs'), '--port', '0', '--host', '127.0.0.1'],
  },
  minimal: {
    label: 'minimal ws',
    proto: 'minimal',
    persist: false,
    history: false,
    args: () => [join(BENCH_DIR, 'servers/minimal.mjs'), '--port', '0', '--host', '127.0.0.1'],
  },
};

/**
 * The throughput scenarios lift the per-connection rate limit so it does not cap them. The soak
 * (H) keeps the default rate, send buffer, send timeout and handshake deadline, the defences
 * hostile clients run into. Every run lifts the per-address caps: every client of the benchmark,
 * well-behaved or not, comes from 127.0.0.1, so 1,800 connections would pass the default of
 * 1,000 open ones, and connecting 100-200 at a time the default of 32 that have not sent their
 * request head yet (--max-pending-per-ip, which would also let H's idle sockets lock the
 * well-behaved clients out: a per-address defence a single-address benchmark cannot judge).
 */
function roomcastArgs(dataDir, soak = false) {
  return [
    'serve',
    '--port', '0',
    '--host', '127.0.0.1',
    '--data', dataDir,
    ...(soak ? [] : ['--rate', '0']),
    '--log-level', 'warn',
    '--max-conn-per-ip', '1000000',
    '--max-unauth-per-ip', '1000000',
    '--max-pending-per-ip', '1000000',
  ];
}

/**
 * Adds another build of roomcast to compare in the same run (`--base DIR`): the checkout at DIR,
 * built (`npm run build` there), started with the same flags. Returns its server name,
 * `roomcast@SHORTSHA`.
 */
export function addBaseBuild(/** @type {string} */ dir) {
  const root = resolve(dir);
  const rev = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const sha = rev.status === 0 ? rev.stdout.trim() : root.split('/').pop();
  const name = `roomcast@${sha}`;
  const bin = join(root, 'packages/server/bin/roomcast.js');
  SERVERS[name] = { ...SERVERS.roomcast, label: `roomcast ${sha} (SQLite)`, args: ({ dataDir, soak }) => [bin, ...roomcastArgs(dataDir, soak)] };
  return name;
}

/** Whether processes can be pinned: taskset present and at least two cores. */
export function canPin() {
  if (availableParallelism() < 2) return false;
  const r = spawnSync('taskset', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Command and arguments for a node process, pinned to `core` when pinning is on. A pinned process
 * (every server, roomcast and baselines alike, and the generators) garbage-collects on its main
 * thread only: V8 sizes its GC helper threads by the machine's cores, not the process's, and on
 * one core they take turns with the main thread, which stalled every server for 40-170 ms at
 * each major GC.
 */
function nodeCommand(/** @type {string[]} */ args, /** @type {number | null} */ core) {
  return core === null ? [process.execPath, args] : ['taskset', ['-c', String(core), process.execPath, '--single-threaded-gc', ...args]];
}

/**
 * Starts a server and waits for its "listening on" line.
 * @param {string} name key of SERVERS
 * @param {{ core: number | null, recovery?: boolean, soak?: boolean, nodeFlags?: string[], extraArgs?: string[] }} o
 *   extraArgs: appended to the server's arguments (cluster nodes: --postgres, --redis, --node-id);
 *   soak: roomcast with its default rate limit (scenario H)
 */
export async function startServer(name, o) {
  const def = SERVERS[name];
  const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-bench-'));
  const [cmd, args] = nodeCommand([...(o.nodeFlags ?? []), ...def.args({ dataDir, recovery: Boolean(o.recovery), soak: Boolean(o.soak) }), ...(o.extraArgs ?? [])], o.core);
  const proc = spawn(/** @type {string} */ (cmd), /** @type {string[]} */ (args), { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_DIR });
  proc.once('error', () => {});
  // In LIVE from the start: a run interrupted while the server starts takes it down too.
  const entry = {
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  LIVE.add(entry);
  proc.once('exit', () => LIVE.delete(entry));
  let stderr = '';
  // The last lines too: when a server dies mid-run, its stack trace is at the end.
  let stderrTail = '';
  proc.stderr.on('data', (d) => {
    const text = d.toString();
    if (stderr.length < 4000) stderr += text;
    stderrTail = (stderrTail + text).slice(-4000);
  });
  /** @type {{ code: number | null, signal: string | null, at: number } | null} */
  let exit = null;
  proc.once('exit', (code, signal) => (exit = { code, signal, at: performance.now() }));
  const port = await new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      entry.kill();
      reject(new Error(`${name} did not start within 30 s: ${stderr.slice(0, 500)}`));
    }, 30000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const m = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      reject(new Error(`${name} exited with ${code} before listening: ${stderr.slice(0, 500)}`));
    });
  });
  proc.stdout.resume();
  return {
    name,
    def,
    port,
    pid: /** @type {number} */ (proc.pid),
    get stderr() {
      return stderr;
    },
    get stderrTail() {
      return stderrTail;
    },
    /** How the process ended (performance.now() time in `at`), or null while it runs. */
    get exit() {
      return exit;
    },
    /** Calls `cb` once the process has exited (at once if it already has). */
    onExit(/** @type {() => void} */ cb) {
      if (exit) cb();
      else proc.once('exit', () => cb());
    },
    /** SIGTERM (a clean exit writes --cpu-prof profiles), SIGKILL after `graceMs`. */
    async stop(graceMs = 8000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts a generator process and hands it a job. Resolves with its result; `onEvent` sees its
 * progress and `ready` messages, and `send` talks back to it.
 * @param {object} job
 * @param {{ core: number | null, onEvent?: (m: any) => void, script?: string }} o
 *   script: another generator under bench/ that speaks the same IPC (H's hostile.mjs)
 */
export function startGenerator(job, o) {
  const [cmd, args] = nodeCommand([join(BENCH_DIR, o.script ?? 'gen.mjs')], o.core);
  const proc = spawn(/** @type {string} */ (cmd), /** @type {string[]} */ (args), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO_DIR });
  const entry = { kill: () => proc.exitCode === null && proc.kill('SIGKILL') };
  LIVE.add(entry);
  proc.once('exit', () => LIVE.delete(entry));
  const result = new Promise((resolveResult) => {
    let got = null;
    proc.on('message', (/** @type {any} */ m) => {
      if (m.ev === 'result') got = m.result;
      else o.onEvent?.(m);
    });
    proc.on('exit', (code) => resolveResult(got ?? { failed: `generator exited with ${code} without a result` }));
  });
  proc.send({ job });
  return {
    pid: proc.pid,
    result,
    send: (/** @type {object} */ m) => proc.connected && proc.send(m),
    kill: () => proc.exitCode === null && proc.kill('SIGKILL'),
  };
}
