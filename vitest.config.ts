import { defineConfig } from "vitest/config";

// Tests import the built packages (@phmatch/*, as a user would); `npm test` builds first.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    // Every core: most test time is spent in the phmatch processes the tests start, not in the test workers, and
    // vitest took one worker on 2 cores (npm test: 391 s with one, 265 s with two, on the 2-core CI machine).
    maxWorkers: "100%",
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        // Scale cases (*.scale.test.ts) are not unit tests: npm run test:fuzz runs them (project "fuzz").
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "test/*.test.ts"],
          exclude: ["**/*.scale.test.ts", "**/node_modules/**"],
          // Test files share their worker's modules (the built packages, sharp) instead of importing them anew:
          // the unit suite took 296 s of CPU this way against 390 s isolated (import time summed over files 37 s
          // against 201 s), measured on the 2-core machine at 3b957c5 with `time npx vitest run --project unit`
          // (--isolate=false vs default). Tests restore what they stub (vi.unstubAllEnvs, restoreAllMocks).
          isolate: false,
          // Type tests of the public API (test/public-api.test-d.ts): tsc on the built declarations, no runtime.
          typecheck: { enabled: true, include: ["test/*.test-d.ts"], tsconfig: "test/tsconfig.public-api.json" },
        },
      },
      {
        extends: true,
        test: { name: "fuzz", include: ["packages/*/test/**/*.scale.test.ts"] },
      },
      {
        extends: true,
        // One file at a time, as before: each starts its own servers (Redis, nginx, Chromium, gate replicas).
        test: { name: "system", include: ["test/system/**/*.test.ts"], fileParallelism: false },
      },
    ],
  },
});
