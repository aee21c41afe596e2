// The house's import rules (issue 17), checked by test/architecture.test.ts in `npm test`.
// Run by hand: npx depcruise --config .dependency-cruiser.cjs packages
//
// The flow is wasm -> core -> cli -> bench; no import runs back up. Paths are relative to the repository root.
// An import of @phmatch/<pkg> resolves through node_modules to packages/<pkg>/dist, so the package rules match
// packages/<pkg>/ as a whole (src and dist).
//
// Commands: every .ts file under packages/cli/src/commands/ is a command file, except
// - the modules the commands share: commands/hashset/options.ts (hash set, trust and state options) and
//   commands/hashset/write-store.ts (how build, import and merge write a store);
// - commands/hashset/index.ts, the `hashset` command group, which registers its own subcommands (the files in
//   commands/hashset/) and nothing else.
// A command file or shared module imports no command file; the group imports no command outside commands/hashset/.

const COMMANDS = "^packages/cli/src/commands/";
const SHARED = [
  "^packages/cli/src/commands/hashset/options\\.ts$",
  "^packages/cli/src/commands/hashset/write-store\\.ts$",
];
const HASHSET_GROUP = "^packages/cli/src/commands/hashset/index\\.ts$";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-command-imports-command",
      comment: "A command does not import another: what two commands share goes to core or to a shared module.",
      severity: "error",
      from: { path: COMMANDS, pathNot: HASHSET_GROUP },
      to: { path: COMMANDS, pathNot: [...SHARED, HASHSET_GROUP] },
    },
    {
      name: "hashset-group-imports-only-its-subcommands",
      comment: "commands/hashset/index.ts registers the hashset subcommands, not other commands.",
      severity: "error",
      from: { path: HASHSET_GROUP },
      to: { path: COMMANDS, pathNot: "^packages/cli/src/commands/hashset/" },
    },
    {
      name: "no-command-imports-hashset-group",
      comment: "Only the program imports the hashset command group.",
      severity: "error",
      from: { path: COMMANDS },
      to: { path: HASHSET_GROUP },
    },
    {
      name: "core-not-cli",
      comment: "Core is a library: it never imports the CLI.",
      severity: "error",
      from: { path: "^packages/core/" },
      to: { path: "^packages/cli/" },
    },
    {
      name: "wasm-not-core-or-cli",
      comment: "The wasm bindings are the bottom of the flow: they import neither core nor the CLI.",
      severity: "error",
      from: { path: "^packages/wasm-bindings/" },
      to: { path: "^packages/(core|cli)/" },
    },
    {
      name: "packages-not-bench",
      comment: "Benchmarks use the packages, never the other way round.",
      severity: "error",
      from: { path: "^packages/" },
      to: { path: "^bench/" },
    },
    {
      name: "no-circular",
      comment: "No import cycles (type-only imports count: they tie the modules' designs together just the same).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "decode-not-hashers-or-pipeline",
      comment: "Decoding turns bytes into pixels; hashing and the per-file pipeline sit above it.",
      severity: "error",
      from: { path: "^packages/core/src/decode/" },
      to: { path: "^packages/core/src/(hashers|pipeline)/" },
    },
    {
      name: "index-not-hashset",
      comment: "The Hamming indexes (core/src/index) are below the hash set: they own their storage.",
      severity: "error",
      from: { path: "^packages/core/src/index/" },
      to: { path: "^packages/core/src/hashset/" },
    },
    {
      name: "src-not-test",
      comment: "Shipped code never imports a test, a test helper or a test fixture.",
      severity: "error",
      from: { path: "^packages/[^/]+/src/" },
      to: { path: ["^test/", "^test-fixtures/", "^packages/[^/]+/test/", "\\.test\\.[cm]?[jt]s$"] },
    },
  ],
  options: {
    // Type-only imports are dependencies too (see no-circular).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    // Follow imports inside the sources only; an import of another package (its dist) or of node_modules is
    // recorded, not followed.
    doNotFollow: { path: ["node_modules", "^packages/[^/]+/dist/"] },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      mainFields: ["module", "main", "types"],
    },
    exclude: { path: ["^packages/wasm-bindings/build/", "^packages/wasm-bindings/assembly/"] },
  },
};
