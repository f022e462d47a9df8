import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { Worker } from 'node:worker_threads';

// SQLite in WAL mode copies the log back into the database file every 1,000 pages, inside the
// commit that crosses the line: under steady writes that was a 10-20 ms pause of the event loop
// every ~140 ms (scenario B of `npm run bench`), the largest part of the delivery p99.
//
// Here a thread of its own, at the lowest CPU priority, does that copying with a connection of its
// own, so it only uses time the event loop leaves idle. A checkpoint from another connection can
// never catch up with a writer that keeps writing, and SQLite only starts the log over once every
// frame in it was copied: so after each pass the thread reports how far it got, and the writer
// copies the few frames written since, which lets its next commit start the log over.

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
try {
  // Linux: /proc/thread-self names this thread; niceness is per thread there.
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {}
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let stopped = false;
function pass() {
  if (stopped) return;
  try {
    // Passes again (up to three times) while the log keeps growing by much, so that what is
    // left for the writer to copy is small.
    let row;
    for (let i = 0, before = -1; i < 3; i++) {
      [row] = db.pragma('wal_checkpoint(PASSIVE)');
      if (row.log - Math.max(before, 0) < workerData.settleFrames) break;
      before = row.log;
    }
    parentPort.postMessage({ busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
  timer = setTimeout(pass, workerData.intervalMs);
}
let timer = setTimeout(pass, workerData.intervalMs);
parentPort.on('message', () => {
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointOptions {
  /** How often the thread copies the WAL into the database file, ms. */
  intervalMs: number;
  /**
   * WAL size, in pages, from which the writer finishes a checkpoint so the log starts over.
   * SQLite indexes the log in blocks of 4,096 frames; each extra block slows page look-ups.
   */
  resetFrames: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointOptions = { intervalMs: 100, resetFrames: 4096 };

/** A pass that found fewer new frames than this is not repeated. */
const SETTLE_FRAMES = 200;

export interface Checkpointer {
  /** Stops the thread after its current pass. */
  stop(): Promise<void>;
}

/**
 * Moves the WAL checkpoints of `database` (the writing connection, open on `file`) to a thread.
 * `onError` hears about failed passes; if the thread dies, SQLite checkpoints inline again.
 */
export function checkpointInBackground(
  database: BetterSqlite3.Database,
  file: string,
  o: CheckpointOptions,
  onError: (err: Error) => void,
): Checkpointer {
  database.pragma('journal_size_limit = 67108864');
  database.pragma('wal_autocheckpoint = 0');
  let finishing = false;
  const finish = () => {
    finishing = false;
    // Inside a transaction the copy would not let the log start over; the next pass asks again.
    if (!database.open || database.inTransaction) return;
    try {
      database.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      onError(err as Error);
    }
  };
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file, driver, intervalMs: o.intervalMs, settleFrames: SETTLE_FRAMES },
  });
  worker.unref();
  let stopping = false;
  worker.on('message', (m: { error?: string; log?: number }) => {
    if (m.error !== undefined) onError(new Error(`WAL checkpoint failed: ${m.error}`));
    // Even a complete pass does not let the log start over: this connection has written more
    // since. Only a checkpoint here, between two of its own commits, can.
    else if (m.log !== undefined && m.log >= o.resetFrames && !finishing) {
      finishing = true;
      setImmediate(finish);
    }
  });
  const fallBack = (err: Error) => {
    onError(err);
    if (database.open) database.pragma('wal_autocheckpoint = 1000');
  };
  worker.on('error', fallBack);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void exited.then(() => {
    if (!stopping) fallBack(new Error('the WAL checkpoint thread stopped; checkpointing inline again'));
  });
  return {
    async stop() {
      if (!stopping) {
        stopping = true;
        // Keep the process alive until the thread is gone, so a closing store is really closed
        // (`roomcast migrate` would otherwise exit before saying so).
        worker.ref();
        worker.postMessage('stop');
      }
      return exited;
    },
  };
}
