/**
 * The Node.js version guard of every entry point (preview, simulate, bench, tests). Importing this module is the
 * check: on an older Node it prints one line and exits 2 before the modules imported after it load, which would
 * otherwise fail with messages that do not say why (`Unknown file extension ".ts"`, a missing API). It imports
 * nothing and uses only what every Node version has, so that it still runs where the rest would not.
 *
 * Entry points import it first, before anything else: `import "./node-version";` (CommonJS evaluates imports in
 * order). tools/preview.ts goes further and loads the rest with a dynamic import after the check.
 */

/** The oldest major the project runs on: package.json's `engines.node` (>=22). */
export const MINIMUM_NODE_MAJOR = 22;

/** The one-line message for an unsupported version, or undefined when `version` (like v20.20.2) is recent enough. */
export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (Number.isInteger(major) && major >= MINIMUM_NODE_MAJOR) return undefined;
  return `cirunners needs Node ${MINIMUM_NODE_MAJOR} or newer, found ${version}`;
}

/** Prints the message and exits 2 when this Node is too old. */
export function requireSupportedNode(version: string = process.version): void {
  const problem = nodeVersionProblem(version);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}

requireSupportedNode();
