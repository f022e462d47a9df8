// One kind of scenario H's hostile clients (bench/lib/hostile.mjs), in a process of its own: a
// child of bench/run.mjs on the generators' core, speaking the generators' IPC (a job in;
// "ready" once every client has tried to connect; "finish" in; the tallies out).
import { setPriority } from 'node:os';
import { runHostile } from './lib/hostile.mjs';

const send = (/** @type {object} */ m) => process.send?.(m);

async function main() {
  process.on('disconnect', () => process.exit(0));
  // The hostile processes share core 1 with the well-behaved generator, whose read times are the
  // latency measurement: at the lowest priority they take only what it leaves idle.
  try {
    setPriority(19);
  } catch {}
  // One listener for the whole life: the job, then "finish" (which may follow it closely).
  /** @type {(m: any) => void} */
  let onFinish = () => {};
  const finish = new Promise((r) => (onFinish = r));
  const job = new Promise((resolve) =>
    process.on('message', (/** @type {any} */ m) => {
      if (m?.job) resolve(m.job);
      if (m?.cmd === 'finish') onFinish(undefined);
    }),
  );
  let result;
  try {
    const h = runHostile(await job, () => send({ ev: 'ready' }));
    await finish;
    result = await h.stop();
  } catch (err) {
    result = { failed: String(/** @type {Error} */ (err)?.message ?? err) };
  }
  send({ ev: 'result', result });
  setTimeout(() => process.exit(0), 50);
}

void main();
