import { defineConfig } from "vitest/config";

// Tests import the built packages (@phmatch/*, as a user would); `npm test` builds first.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["packages/*/test/**/*.test.ts", "test/*.test.ts"] },
      },
      {
        extends: true,
        test: { name: "system", include: ["test/system/**/*.test.ts"] },
      },
    ],
  },
});
