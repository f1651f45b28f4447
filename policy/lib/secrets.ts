// Secret detection for plain-text configuration (Lambda environment variables, EC2 user data). Checkov CKV_AWS_45
// (Lambda environment) and CKV_AWS_46 (EC2 user data) use detect-secrets: known key formats plus high-entropy
// strings. False positives are kept low by matching known formats first and only flagging long, random-looking
// tokens that are not ARNs, URLs, paths or SSM parameter names.

/** Known credential formats (AWS, GitHub, Slack, private keys), each named for the message. */
const KNOWN_FORMATS: readonly { name: string; pattern: RegExp }[] = [
  { name: "an AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: "a GitHub token", pattern: /\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b/ },
  { name: "a GitHub fine-grained token", pattern: /\bgithub_pat_[A-Za-z0-9_]{60,}\b/ },
  { name: "a Slack token", pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/ },
  { name: "a private key", pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/ },
];

/** Values that look random but are references, not secrets. */
const REFERENCE = /^(arn:|https?:\/\/|\/|s3:\/\/|\{\{resolve:|\$\{)|^[a-z0-9-]+\.[a-z0-9.-]+$/i;

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * A random-looking token: at least 32 characters of the base64 alphabet, mixed letters and digits, and an entropy
 * of at least 4.5 bits per character (detect-secrets' Base64HighEntropyString default limit). Words are split on
 * whitespace, quotes, `=`, `,` and `;` only, so ARNs and URLs (with `:`) and hyphenated resource names never qualify.
 */
function highEntropyToken(value: string): string | undefined {
  for (const token of value.split(/[\s"'=,;]+/)) {
    if (token.length < 32 || REFERENCE.test(token) || !/^[A-Za-z0-9+/_]+={0,2}$/.test(token)) continue;
    if (!/[0-9]/.test(token) || !/[A-Za-z]/.test(token)) continue;
    if (shannonEntropy(token) >= 4.5) return token;
  }
  return undefined;
}

/** What kind of secret the text contains ("an AWS access key id", "a high-entropy string"), or undefined. */
export function findSecret(text: string): string | undefined {
  for (const { name, pattern } of KNOWN_FORMATS) if (pattern.test(text)) return name;
  return highEntropyToken(text) ? "a high-entropy string (a key or password)" : undefined;
}

/** Decodes base64 user data (`userDataBase64`, launch templates' `userData`); returns the text unchanged otherwise. */
export function decodeUserData(value: string): string {
  const compact = value.replace(/\s+/g, "");
  if (compact.length >= 8 && compact.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, "base64").toString("utf8");
    if (!decoded.includes("\uFFFD")) return decoded;
  }
  return value;
}
