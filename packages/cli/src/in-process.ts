import { fitsInProcess } from "@phmatch/core/internal";

/** `--isolate`'s help (hash, check). */
export const ISOLATE_HELP =
  "decode even one small file in the supervised worker process (default: one JPEG, PNG, WebP or GIF of at most " +
  "32 MiB and 40 MP is decoded in this process, which starts in a fraction of the time)";

/**
 * One small image file, and nothing asked that only the worker process gives (`--isolate`, `--memory-limit`, more
 * than one job): decoded here, without the worker process's start-up. The decode keeps its time limit.
 */
export async function inProcessAllowed(
  file: string,
  options: { isolate: boolean; memoryLimit?: number; jobs?: number },
): Promise<boolean> {
  if (options.isolate || options.memoryLimit !== undefined || (options.jobs ?? 1) > 1) return false;
  return fitsInProcess(file);
}
