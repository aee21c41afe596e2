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

/**
 * Runs short sections one at a time in the order they were asked for, each once its input is ready: inputs are
 * awaited side by side, but a section never runs before the sections asked for earlier. The scan claims "first
 * copy of these bytes" this way, so that the copy first in walk order is the first, whichever read ended sooner.
 */
export class CallOrder {
  #tail: Promise<unknown> = Promise.resolve();

  /** `section(await input)`, after every section asked for before this call has run (or failed). */
  run<T, R>(input: Promise<T>, section: (value: T) => R): Promise<R> {
    const result = this.#tail.then(() => input).then(section);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
