// Latency histogram with logarithmic buckets (about 1% wide) from 1 µs to ~10 min: constant
// memory however many samples, mergeable across processes, percentiles within 1%.

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = 2100;

export class Histogram {
  constructor() {
    this.counts = new Float64Array(BUCKETS);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  /** @param {number} us latency in microseconds */
  record(us) {
    if (us < 1) us = 1;
    let i = Math.floor(Math.log(us) / LOG_GROWTH);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.counts[i]++;
    this.n++;
    this.sum += us;
    if (us > this.max) this.max = us;
  }

  /** @param {{counts: ArrayLike<number>, n: number, max: number, sum: number}} other */
  merge(other) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i] ?? 0;
    this.n += other.n;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** @param {number} q in [0, 1]; the bucket's upper edge, in microseconds */
  quantile(q) {
    if (this.n === 0) return null;
    const target = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.max, Math.pow(GROWTH, i + 1));
    }
    return this.max;
  }

  /** Summary in milliseconds. */
  summary() {
    const ms = (/** @type {number | null} */ v) => (v === null ? null : Math.round(v) / 1000);
    return {
      count: this.n,
      p50: ms(this.quantile(0.5)),
      p99: ms(this.quantile(0.99)),
      max: this.n === 0 ? null : ms(this.max),
      mean: this.n === 0 ? null : ms(this.sum / this.n),
    };
  }
}
