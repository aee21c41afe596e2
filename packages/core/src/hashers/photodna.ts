import { registerHasher } from "./registry.js";

// PhotoDNA is proprietary: phmatch cannot compute it. Values are imported from lists (VICS and others carry
// them) and kept with their entries so that a list loads whole; they never match.
registerHasher({
  id: "photodna",
  bits: 1152,
  input: "imported",
  defaultThreshold: 0,
  description: "PhotoDNA (imported and carried only; phmatch cannot compute it)",
});
