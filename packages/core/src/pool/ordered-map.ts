/**
 * Maps `fn` over `source` with at most `window` calls outstanding and yields results in input order.
 * Memory stays bounded however long the source is (a million paths are never all queued). `fn` must not reject.
 */
export async function* orderedMap<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  window: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const outstanding: Promise<R>[] = [];
  for await (const item of source) {
    outstanding.push(fn(item));
    if (outstanding.length >= window) yield await (outstanding.shift() as Promise<R>);
  }
  while (outstanding.length > 0) yield await (outstanding.shift() as Promise<R>);
}
