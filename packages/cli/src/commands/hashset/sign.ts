import { readFile, writeFile } from "node:fs/promises";
import { generateSigningKeys, signStore } from "@phmatch/core";
import { Command } from "commander";
import { readText } from "./options.js";

/** `phmatch hashset sign`: a detached Ed25519 signature over the store's exact bytes. */
export function signCommand(): Command {
  return new Command("sign")
    .description("write a detached Ed25519 signature (<store>.sig) over the store's exact bytes")
    .addHelpText("after", "\nExample:\n  phmatch hashset sign pvic.phs --key list.key\n")
    .argument("<store>", "the .phs store (plain or encrypted)")
    .requiredOption("--key <file>", "Ed25519 private key (PEM)")
    .action(async (store: string, options: { key: string }) => {
      const signature = signStore(await readFile(store), readText(options.key, "--key"));
      await writeFile(`${store}.sig`, signature);
      process.stdout.write(
        `signed ${store} -> ${store}.sig (key ${(JSON.parse(signature) as { keyId: string }).keyId})\n`,
      );
    });
}

/** `phmatch hashset keygen`: an Ed25519 key pair for signing lists. */
export function keygenCommand(): Command {
  return new Command("keygen")
    .description("make an Ed25519 key pair for signing lists")
    .addHelpText("after", "\nExample:\n  phmatch hashset keygen --private list.key --public list.pub\n")
    .requiredOption("--private <file>", "where to write the private key (PEM, mode 0600)")
    .requiredOption("--public <file>", "where to write the public key (PEM), for --trusted-keys")
    .action(async (options: { private: string; public: string }) => {
      const keys = generateSigningKeys();
      await writeFile(options.private, keys.privateKeyPem, { mode: 0o600 });
      await writeFile(options.public, keys.publicKeyPem);
      process.stdout.write(`wrote ${options.private} and ${options.public}\n`);
    });
}
