import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HashKernel, wasmUrl } from "@phmatch/wasm";

let kernel: HashKernel | undefined;
let compiled: ReturnType<typeof HashKernel.compile> | undefined;

/** The WebAssembly kernels for this thread, compiled once per process and instantiated once per thread. */
export function hashKernel(): HashKernel {
  if (kernel === undefined) {
    compiled ??= HashKernel.compile(readFileSync(fileURLToPath(wasmUrl)));
    kernel = HashKernel.loadSync(compiled);
  }
  return kernel;
}
