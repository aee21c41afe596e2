/** Sorts n values of type T (f32, f64) in place, ascending. Insertion sort: the arrays here hold 64-256 values. */
export function sortInPlace<T>(base: usize, n: i32): void {
  const size = <usize>sizeof<T>();
  for (let i = 1; i < n; i++) {
    const x = load<T>(base + <usize>i * size);
    let j = i - 1;
    while (j >= 0 && load<T>(base + <usize>j * size) > x) {
      store<T>(base + <usize>(j + 1) * size, load<T>(base + <usize>j * size));
      j--;
    }
    store<T>(base + <usize>(j + 1) * size, x);
  }
}
