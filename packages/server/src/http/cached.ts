/**
 * `load` shared and kept for `ttlMs`: callers in that time get the last value, and callers while
 * it runs share the one call in flight, so a flood of requests makes at most one query at a time
 * and one per `ttlMs`. A failure is not kept: the next caller tries again.
 */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { value: T; at: number } | null = null;
  let pending: Promise<T> | null = null;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    pending ??= load()
      .then((value) => {
        last = { value, at: now() };
        return value;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
}
