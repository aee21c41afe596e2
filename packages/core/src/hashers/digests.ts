import { registerHasher } from "./registry.js";

// Exact digests of the file bytes, declared as algorithms; files/streaming-digests.ts computes them while the file
// is read, so decode needs no hasher.
registerHasher({ id: "md5", bits: 128, input: "bytes", defaultThreshold: 0, description: "MD5 of the file bytes" });
registerHasher({ id: "sha1", bits: 160, input: "bytes", defaultThreshold: 0, description: "SHA-1 of the file bytes" });
registerHasher({
  id: "sha256",
  bits: 256,
  input: "bytes",
  defaultThreshold: 0,
  description: "SHA-256 of the file bytes",
});
