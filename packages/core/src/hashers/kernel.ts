import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PdqKernel, wasmUrl } from "@phmatch/wasm";

let kernel: PdqKernel | undefined;
let compiled: ReturnType<typeof PdqKernel.compile> | undefined;

/** The WebAssembly kernels for this thread, compiled once per process and instantiated once per thread. */
export function hashKernel(): PdqKernel {
  if (kernel === undefined) {
    compiled ??= PdqKernel.compile(readFileSync(fileURLToPath(wasmUrl)));
    kernel = PdqKernel.loadSync(compiled);
  }
  return kernel;
}
