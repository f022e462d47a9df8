/** Counts per client address (open connections, connections waiting to authenticate or to send a request head). */
export class PerAddress {
  private readonly counts = new Map<string, number>();

  /** Counts one more for `ip`; returns the count after. */
  add(ip: string): number {
    const n = (this.counts.get(ip) ?? 0) + 1;
    this.counts.set(ip, n);
    return n;
  }

  remove(ip: string): void {
    const n = (this.counts.get(ip) ?? 1) - 1;
    if (n <= 0) this.counts.delete(ip);
    else this.counts.set(ip, n);
  }
}
