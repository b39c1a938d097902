/**
 * Runs `work` on every item with at most `limit` at a time, and resolves with the results in order: for
 * fuzz suites, which send hundreds of requests but must not open hundreds of sockets at once on a
 * 2-core machine shared with other tests.
 */
export async function concurrently<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
