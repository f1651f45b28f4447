// gRPC client side of the parity tests: starts the REAL policy pack (policy/index.ts served by @pulumi/policy 1.21,
// as `pulumi preview --policy-pack ./policy` does) and sends it the calls the engine sends: Configure,
// ConfigureStack, Analyze per resource, and AnalyzeStack with parent, dependencies and propertyDependencies (the
// engine's step generator sends each resource's Parent, Dependencies and PropertyDependencies with its outputs).
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";
import {
  type EvalResource,
  type EvaluateOptions,
  resolvePolicyConfig,
  toEngineProperties,
} from "../../policy/evaluate";
import { policies } from "../../policy/policies";

/* eslint-disable @typescript-eslint/no-explicit-any */
const POLICY_DIR = path.resolve(__dirname, "../../policy");
// Resolve the gRPC stubs the way the pack resolves @pulumi/pulumi (a workspace: possibly hoisted to the root).
const packRequire = createRequire(path.join(POLICY_DIR, "package.json"));
const protoRequire = createRequire(packRequire.resolve("@pulumi/pulumi/proto/analyzer_grpc_pb.js"));
export const grpc: any = protoRequire("@grpc/grpc-js");
export const services: any = protoRequire("./analyzer_grpc_pb");
export const pb: any = protoRequire("./analyzer_pb");
const structPb: any = protoRequire("google-protobuf/google/protobuf/struct_pb");

const LEVEL_TO_PROTO: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };
const PROTO_TO_LEVEL = ["advisory", "mandatory", "disabled", "remediate"];

export function startPack(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), "index.ts"], {
      cwd: POLICY_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`policy pack did not start: ${err}`)), 45_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${err}`)));
  });
}

export function call<T>(client: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, (e: Error | null, r: T) => (e ? reject(e) : resolve(r))),
  );
}

function options(parent?: string): any {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(false);
  if (parent) o.setParent(parent);
  return o;
}

/** Fills an AnalyzeRequest or an AnalyzerResource (same setters) with what the engine sends for the resource. */
export function describeResource(message: any, r: EvalResource): any {
  message.setType(r.type);
  message.setName(r.name);
  message.setUrn(r.urn);
  message.setProperties(structPb.Struct.fromJavaScript(toEngineProperties(r.props)));
  message.setOptions(options(r.parent));
  return message;
}

export interface Diag {
  policy: string;
  level: string;
  message: string;
  urn?: string;
}

export const canon = (d: Diag[]) => d.map((x) => JSON.stringify(x)).sort();

/** Configure the way the CLI does: every policy with its reconciled level and properties (defaults + given). */
export async function configure(client: any, evalOptions: EvaluateOptions): Promise<void> {
  const request = new pb.ConfigureAnalyzerRequest();
  for (const [name, cfg] of resolvePolicyConfig(policies, evalOptions.config)) {
    const pc = new pb.PolicyConfig();
    pc.setEnforcementlevel(LEVEL_TO_PROTO[cfg.enforcementLevel]);
    pc.setProperties(structPb.Struct.fromJavaScript(cfg.properties));
    request.getPolicyconfigMap().set(name, pc);
  }
  await call(client, "configure", request);
  const stackConfigure = new pb.AnalyzerStackConfigureRequest();
  stackConfigure.setStack("dev");
  stackConfigure.setProject("cirunners");
  stackConfigure.setDryRun(true);
  for (const [k, v] of Object.entries((evalOptions.stackTags ?? {}) as Record<string, string>))
    stackConfigure.getTagsMap().set(k, v);
  await call(client, "configureStack", stackConfigure);
}

const diagnostic = (d: any, urn: string | undefined): Diag => ({
  policy: d.getPolicyname(),
  level: PROTO_TO_LEVEL[d.getEnforcementlevel()],
  message: d.getMessage(),
  urn,
});

/** Analyze for each resource, then AnalyzeStack over all of them; diagnostics and `policy|urn|reason` records. */
export async function analyzeAll(client: any, resources: EvalResource[]): Promise<{ served: Diag[]; na: string[] }> {
  const served: Diag[] = [];
  const na: string[] = [];
  for (const r of resources) {
    const resp: any = await call(client, "analyze", describeResource(new pb.AnalyzeRequest(), r));
    for (const d of resp.getDiagnosticsList()) served.push(diagnostic(d, r.urn));
    for (const n of resp.getNotApplicableList()) na.push(`${n.getPolicyName()}|${r.urn}|${n.getReason()}`);
  }
  const stackReq = new pb.AnalyzeStackRequest();
  stackReq.setResourcesList(
    resources.map((r) => {
      const ar = describeResource(new pb.AnalyzerResource(), r);
      if (r.parent) ar.setParent(r.parent);
      ar.setDependenciesList(r.dependencies ?? []);
      for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const deps = new pb.AnalyzerPropertyDependencies();
        deps.setUrnsList(urns);
        ar.getPropertydependenciesMap().set(k, deps);
      }
      return ar;
    }),
  );
  const stackResp: any = await call(client, "analyzeStack", stackReq);
  for (const d of stackResp.getDiagnosticsList()) served.push(diagnostic(d, d.getUrn() || undefined));
  for (const n of stackResp.getNotApplicableList()) na.push(`${n.getPolicyName()}|undefined|${n.getReason()}`);
  return { served, na };
}
