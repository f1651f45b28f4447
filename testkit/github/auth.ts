/**
 * How the stand-in authenticates callers as GitHub does for a GitHub App: `/app/...` and the installation routes
 * take the App's JWT (RS256, `iss` = App id, at most 10 minutes; the signature is checked when the App key is
 * known), every other route takes an installation token, release reads take either or nothing.
 */
import { createVerify, type KeyObject } from "node:crypto";
import { HttpFailure } from "./http";
import type { GitHubState } from "./state";

/** Which credential a route takes. */
export type AuthKind = "app" | "installation" | "optional" | "none";

/** Who is calling: the App itself, an installation (by its token), or nobody. */
export type Caller = { kind: "app" } | { kind: "installation"; installationId: number } | { kind: "anonymous" };

export interface AppIdentity {
  appId: number;
  /** The public half of the App key, when JWT signatures are verified. */
  publicKey?: KeyObject;
}

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Why a JWT is not an acceptable App JWT, or undefined when it is. */
export function jwtProblem(jwt: string, app: AppIdentity, nowSeconds: number): string | undefined {
  const parts = jwt.split(".");
  if (parts.length !== 3) return "a JWT has three dot-separated parts";
  let header: { alg?: string; typ?: string };
  let payload: { iat?: number; exp?: number; iss?: number | string };
  try {
    header = decodeSegment(parts[0]) as typeof header;
    payload = decodeSegment(parts[1]) as typeof payload;
  } catch {
    return "JWT header or payload is not base64url JSON";
  }
  if (header.alg !== "RS256") return `JWT alg must be RS256, got ${header.alg}`;
  if (String(payload.iss) !== String(app.appId)) return `JWT iss must be the App id ${app.appId}, got ${payload.iss}`;
  if (typeof payload.iat !== "number" || typeof payload.exp !== "number") return "JWT needs numeric iat and exp";
  if (payload.exp <= nowSeconds) return "JWT expired";
  if (payload.exp - payload.iat > 660) return "JWT lifetime exceeds 10 minutes";
  if (app.publicKey) {
    const verifier = createVerify("RSA-SHA256");
    verifier.update(`${parts[0]}.${parts[1]}`);
    if (!verifier.verify(app.publicKey, Buffer.from(parts[2], "base64url")))
      return "JWT signature does not match the App key";
  }
  return undefined;
}

/** Checks the Authorization header against what the route takes; throws GitHub's 401 when it does not do. */
export function authenticate(kind: AuthKind, header: string | undefined, app: AppIdentity, state: GitHubState): Caller {
  if (kind === "none") return { kind: "anonymous" };
  if (!header) {
    if (kind === "optional") return { kind: "anonymous" };
    throw new HttpFailure(401, "Requires authentication");
  }
  const [scheme, credential] = header.split(/\s+/, 2);
  if (kind === "app") {
    if (scheme.toLowerCase() !== "bearer" || !credential)
      throw new HttpFailure(401, "A JSON web token could not be decoded");
    const problem = jwtProblem(credential, app, Math.floor(state.now() / 1000));
    if (problem) throw new HttpFailure(401, `A JSON web token could not be decoded: ${problem}`);
    return { kind: "app" };
  }
  if (!["token", "bearer"].includes(scheme.toLowerCase()) || !credential) throw new HttpFailure(401, "Bad credentials");
  const installationId = state.tokenInstallation(credential);
  if (installationId === undefined) throw new HttpFailure(401, "Bad credentials");
  return { kind: "installation", installationId };
}

/** An installation token acts only on its own account's resources (GitHub: 403 for any other owner). */
export function requireOwnAccount(caller: Caller, owner: string, state: GitHubState): void {
  if (caller.kind !== "installation") return;
  if (state.installationOf(owner) !== caller.installationId)
    throw new HttpFailure(403, "Resource not accessible by integration");
}
