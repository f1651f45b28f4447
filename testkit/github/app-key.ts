import { generateKeyPairSync } from "node:crypto";

/** A new RSA key for a GitHub App, in the PEM form GitHub hands out (PKCS#1, 2048 bits). */
export function generateAppPrivateKey(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
}
