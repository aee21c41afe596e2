// Importing this module registers every algorithm (one file each).
import "./pdq.js";
import "./ahash.js";
import "./phash.js";
import "./dhash.js";
import "./whash.js";
import "./blockhash.js";
import "./digests.js";
import "./photodna.js";

export {
  type HasherInput,
  type HasherSpec,
  hasherSpec,
  hasherSpecs,
  hexDigits,
  isComputable,
  whyNotComputable,
} from "./registry.js";
