import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// SQLite in WAL mode copies the log back into the database file every 1,000 pages, in the
// commit that crosses the line, and fsyncs both files: a pause of several milliseconds on the
// event loop, which showed as the p99 delivery latency under load (17.7 ms with it, 7.5 ms
// without, in `npm run bench` scenario B). The checkpoints run here instead, on a thread of
// their own with a connection of their own; the main connection turns its own off.

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Stops the thread after its current checkpoint. */
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `file` every `intervalMs` on a worker thread. `onError` hears about
 * failed checkpoints and a thread that died (the caller then checkpoints inline again).
 */
export function startCheckpointer(file: string, intervalMs: number, onError: (err: Error, fatal: boolean) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
  worker.unref();
  let stopping = false;
  worker.on('message', (m: { error?: string }) => {
    if (m.error) onError(new Error(`WAL checkpoint failed: ${m.error}`), false);
  });
  worker.on('error', (err) => onError(err, true));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => {
    if (!stopping) onError(new Error('the WAL checkpoint thread stopped'), true);
  });
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      worker.postMessage('stop');
      return exited;
    },
  };
}
