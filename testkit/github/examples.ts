/**
 * Response bodies start from the examples in GitHub's published OpenAPI description (`@octokit/openapi`), so they
 * keep GitHub's shapes; the routes override the dynamic fields.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

interface OpenApiDocument {
  components: { examples: Record<string, { value: unknown }> };
}

let openApi: OpenApiDocument | undefined;

/** GitHub's OpenAPI description (the non-dereferenced one: examples live under components.examples). */
export function loadOpenApiDescription(): OpenApiDocument {
  if (!openApi) {
    const packageDir = dirname(require.resolve("@octokit/openapi/package.json"));
    openApi = JSON.parse(readFileSync(join(packageDir, "generated", "api.github.com.json"), "utf8")) as OpenApiDocument;
  }
  return openApi;
}

/** A fresh copy of a named example (`components.examples.<name>.value`). */
export function example<T>(name: string): T {
  const found = loadOpenApiDescription().components.examples[name];
  if (!found) throw new Error(`@octokit/openapi has no example named ${name}`);
  return structuredClone(found.value) as T;
}
