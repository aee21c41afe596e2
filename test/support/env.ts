// The environment a test runs phmatch in: the developer's own phmatch variables taken out, not set empty (an empty
// PHMATCH_TRUSTED_KEYS or PHMATCH_STATE_DIR is an error, never "none" or "the default").

/** Variables that change how phmatch trusts lists and where it keeps state; removed from a test's environment. */
export const PHMATCH_TRUST_VARIABLES = [
  "PHMATCH_TRUSTED_KEYS",
  "PHMATCH_TRUSTED_OVERRIDE_KEYS",
  "PHMATCH_STATE_DIR",
  "PHMATCH_LIST_KEY",
  "PHMATCH_TOKEN",
] as const;

/** `process.env` without {@link PHMATCH_TRUST_VARIABLES}, with `extra` set. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of PHMATCH_TRUST_VARIABLES) delete env[name];
  return { ...env, ...extra };
}
