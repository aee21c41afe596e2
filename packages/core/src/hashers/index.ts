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
  hasherSpec,
  hasherSpecs,
  hexDigits,
  isComputable,
  whyNotComputable,
  type HasherSpec,
  type HasherInput,
} from "./registry.js";
