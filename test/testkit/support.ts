/**
 * Shared by the stand-in's tests: a validator of response bodies against GitHub's OpenAPI response schemas
 * (@octokit/openapi, dereferenced), a receiver that plays the webhook endpoint, and a fetch helper.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

type OpenApiOperation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
type Spec = { paths: Record<string, Record<string, OpenApiOperation>> };

/** OpenAPI 3.0 `nullable` → JSON Schema: `{ ...schema, nullable: true }` becomes `anyOf: [schema, null]`. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (typeof node !== "object" || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [k, k === "example" || k === "examples" ? v : toJsonSchema(v)]),
  );
  return nullable === true ? { anyOf: [converted, { type: "null" }] } : converted;
}

const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

/** `assertMatchesSpec("GET /path/{x}", 200, body)`: fails with the schema errors when the body does not fit. */
export function specValidator(): (route: string, status: number, body: unknown) => void {
  const packageDir = dirname(require.resolve("@octokit/openapi/package.json"));
  const spec = JSON.parse(readFileSync(join(packageDir, "generated", "api.github.com.deref.json"), "utf8")) as Spec;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  return (route, status, body) => {
    const [method, path] = route.split(" ");
    const key = `${route} ${status}`;
    let validate = validators.get(key);
    if (!validate) {
      const schema =
        spec.paths[path][method.toLowerCase()].responses[String(status)]?.content?.["application/json"]?.schema;
      assert.ok(schema, `the spec has no JSON schema for ${route} ${status}`);
      validate = ajv.compile(toJsonSchema(schema) as object);
      validators.set(key, validate);
    }
    assert.ok(validate(body), `${key}: ${ajv.errorsText(validate.errors)}`);
  };
}

export interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A webhook endpoint on 127.0.0.1 answering `status()` to every delivery, keeping what it received. */
export async function startReceiver(status: () => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status()).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Response {
  status: number;
  headers: Headers;
  /** Parsed JSON when the stand-in says it is JSON, the text otherwise; undefined when empty. */
  body: any;
}

/** One request to the stand-in. Redirects are returned, not followed, so tests can check where they point. */
export async function request(
  base: string,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown; accept?: string } = {},
): Promise<Response> {
  const response = await fetch(`${base}${path}`, {
    method,
    redirect: "manual",
    headers: {
      ...(options.auth ? { authorization: options.auth } : {}),
      ...(options.body ? { "content-type": "application/json" } : {}),
      accept: options.accept ?? "application/vnd.github+json",
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.includes("json");
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (json ? JSON.parse(text) : text) : undefined,
  };
}

/** `request` with the auth header and JSON body as arguments. */
export function call(base: string, method: string, path: string, auth?: string, body?: unknown): Promise<Response> {
  return request(base, method, path, { auth, body });
}
