/**
 * Work the server must finish before it stops (a commit being answered, a catch-up being sent):
 * counted, not kept. A counter, not a set of promises: two of these per message, and a Set's
 * table churn was a visible share of the garbage.
 */
export class Work {
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  /** Counts `p` as in flight until it settles, and returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    p.then(this.settled, this.settled);
    return p;
  }

  private readonly settled = (): void => {
    if (--this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  };

  /** Work still in flight. */
  get pending(): number {
    return this.inFlight;
  }

  /** Resolves once nothing is in flight. */
  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
