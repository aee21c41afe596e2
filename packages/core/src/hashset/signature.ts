import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { PhmatchError } from "../errors/index.js";

// Detached Ed25519 signatures over the exact bytes of a store on disk (encrypted or not), node:crypto only.
// The .sig file is JSON: {"algorithm":"ed25519","keyId":"<first 16 hex of SHA-256 of the public key DER>",
// "signature":"<base64>"}.

/** A key's short id: the first 16 hex digits of the SHA-256 of its SubjectPublicKeyInfo DER. */
export function keyId(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);
}

/** Signs `bytes` with an Ed25519 private key (PEM); returns the .sig file's content. */
export function signStore(bytes: Uint8Array, privateKeyPem: string): string {
  const publicKey = createPublicKey(privateKeyPem);
  if (publicKey.asymmetricKeyType !== "ed25519") {
    throw new PhmatchError("PHM_USAGE", `signing needs an Ed25519 key, got ${String(publicKey.asymmetricKeyType)}`);
  }
  const signature = sign(null, bytes, privateKeyPem);
  return (
    JSON.stringify({ algorithm: "ed25519", keyId: keyId(publicKey), signature: signature.toString("base64") }) + "\n"
  );
}

/**
 * Parses trusted public keys: one or more PEM blocks, concatenated (a file or PHMATCH_TRUSTED_KEYS). Trusted keys
 * that are asked for must be usable: no PEM block, a block that is not a public key, or a key that is not Ed25519
 * (nothing phmatch signs could verify under it) is PHM_USAGE, never "no keys, so no checks". `what` names the source.
 */
export function parseTrustedKeys(pem: string, what = "the trusted keys"): KeyObject[] {
  const blocks = pem.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? [];
  if (blocks.length === 0)
    throw new PhmatchError(
      "PHM_USAGE",
      `no PEM public key found in ${what}: signature checks were asked for, so a usable Ed25519 public key is required`,
    );
  return blocks.map((block, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch (error) {
      throw new PhmatchError(
        "PHM_USAGE",
        `public key ${i + 1} in ${what} cannot be read (${(error as Error).message}): fix or remove it`,
        { cause: error },
      );
    }
    if (key.asymmetricKeyType !== "ed25519") {
      throw new PhmatchError(
        "PHM_USAGE",
        `public key ${i + 1} in ${what} is ${String(key.asymmetricKeyType)}, not Ed25519: ` +
          `no phmatch signature can verify under it; give the Ed25519 public key of the signer`,
      );
    }
    return key;
  });
}

/**
 * Verifies a detached signature against trusted keys. Throws PHM_HASHSET_SIGNATURE if the signature is missing,
 * malformed, by an untrusted key, or does not match the bytes. Returns the signing key's id.
 */
export function verifyStore(
  bytes: Uint8Array,
  signatureFile: string | undefined,
  trustedKeys: KeyObject[],
  what: string,
): string {
  if (trustedKeys.length === 0)
    throw new PhmatchError("PHM_USAGE", `no trusted key to check ${what} against: give at least one public key`);
  if (signatureFile === undefined) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${what} is not signed (no ${what}.sig) but trusted keys are configured: refused`,
    );
  }
  let parsed: { algorithm?: unknown; keyId?: unknown; signature?: unknown };
  try {
    parsed = JSON.parse(signatureFile) as typeof parsed;
    if (typeof parsed !== "object" || parsed === null) throw new TypeError("not a JSON object");
  } catch {
    throw new PhmatchError("PHM_HASHSET_SIGNATURE", `${what}.sig is not a phmatch signature file: refused`);
  }
  if (parsed.algorithm !== "ed25519" || typeof parsed.signature !== "string") {
    throw new PhmatchError("PHM_HASHSET_SIGNATURE", `${what}.sig is not an Ed25519 signature: refused`);
  }
  const key = trustedKeys.find((k) => keyId(k) === parsed.keyId);
  if (key === undefined) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${what} is signed by key ${String(parsed.keyId)}, which is not among the trusted keys: refused`,
    );
  }
  if (!verify(null, bytes, key, Buffer.from(parsed.signature, "base64"))) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${what} does not match its signature (altered or damaged since it was signed by key ${keyId(key)}): refused`,
    );
  }
  return keyId(key);
}

/** A new Ed25519 key pair as PEM (for `hashset keygen` and tests). */
export function generateSigningKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
