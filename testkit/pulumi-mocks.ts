/**
 * Pulumi mocks that behave like the AWS, GitHub and random providers closely enough for the program to run
 * offline: every resource gets a stable id and the ARN/URL/name AWS would give it (in its region's partition),
 * so IAM documents resolve to concrete ARNs that tests and the policy pack can check. A recorder keeps what was
 * registered, with parents.
 *
 *   pulumi/resource-state.ts  ids and computed state per resource type
 *   pulumi/invokes.ts         answers for the data sources the program calls
 */
import * as pulumi from "@pulumi/pulumi";
import { invokeResult } from "./pulumi/invokes";
import { customResourceState, remoteComponentState, shortHash } from "./pulumi/resource-state";

export const MOCK_ACCOUNT_ID = "123456789012";

export interface RecordedResource {
  /** Pulumi type token, e.g. aws:sqs/queue:Queue. */
  type: string;
  /** Logical name. */
  name: string;
  urn: string;
  /** URN of the parent (undefined for the stack's direct children). */
  parentUrn?: string;
  custom: boolean;
  /** Inputs as the provider would receive them (resolved; secrets unwrapped). */
  inputs: Record<string, any>;
  /** Inputs in Pulumi's wire form (secrets, assets and unknowns still marked): see testkit/wire.ts. */
  wireInputs: Record<string, any>;
  /** State the mock returned (inputs plus computed outputs). */
  state: Record<string, any>;
  /** The provider reference, when explicit. */
  provider?: string;
  /** URNs the resource depends on (`dependsOn` and every input's resources), as the engine sends them. */
  dependencies: string[];
  /** Per input property, the URNs of the resources its value came from (what stack policies see). */
  propertyDependencies: Record<string, string[]>;
}

/**
 * Records every resource registration, with its parent, by wrapping the mock monitor. Call after `setMocks`.
 */
export function recordRegistrations(): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  const monitor = pulumi.runtime.getMonitor() as any;
  if (!monitor || typeof monitor.registerResource !== "function")
    throw new Error("call setMocks before recordRegistrations");
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
    original(req, (err: any, resp: any) => {
      if (!err && resp) {
        const urn: string = resp.getUrn();
        const entry = monitor.resources.get(urn);
        recorded.push({
          type: req.getType(),
          name: req.getName(),
          urn,
          parentUrn: req.getParent() || undefined,
          custom: req.getCustom(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()),
          wireInputs: req.getObject().toJavaScript(),
          state: entry ? pulumi.runtime.deserializeProperties({ toJavaScript: () => entry.state } as any) : {},
          provider: req.getProvider() || undefined,
          dependencies: req.getDependenciesList(),
          propertyDependencies: propertyDependenciesOf(req),
        });
      }
      callback(err, resp);
    });
  };
  return recorded;
}

/** The request's property dependencies (a protobuf map: key → { urns }) as plain URN lists. */
function propertyDependenciesOf(req: any): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((value: { getUrnsList(): string[] }, key: string) => {
    out[key] = value.getUrnsList();
  });
  return out;
}

/** Every resource registered below `urn`, at any depth, in registration order. */
export function descendantsOf(recorded: RecordedResource[], urn: string): RecordedResource[] {
  const byParent = new Map<string, RecordedResource[]>();
  for (const r of recorded) if (r.parentUrn) byParent.set(r.parentUrn, [...(byParent.get(r.parentUrn) ?? []), r]);
  const out: RecordedResource[] = [];
  const walk = (parent: string) => {
    for (const child of byParent.get(parent) ?? []) {
      out.push(child);
      walk(child.urn);
    }
  };
  walk(urn);
  return out;
}

/**
 * Waits until the program has registered everything: no RPC in flight and no new registration for a few rounds.
 * Children created inside `apply` register only after their inputs resolve, so one wait is not enough.
 */
export async function settleRegistrations(recorded: RecordedResource[], quietMs = 20): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  let previous = -1;
  let quietRounds = 0;
  while (quietRounds < 3) {
    await settings.waitForRPCs();
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    quietRounds = recorded.length === previous ? quietRounds + 1 : 0;
    previous = recorded.length;
  }
}

/** Resolves an Output (or plain value) to its value in tests. */
export function outputValue<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) =>
    pulumi.output(output).apply((v) => {
      resolve(v as T);
      return v;
    }),
  );
}

export interface MockOptions {
  /** Default region (aws:region). */
  region: string;
  accountId?: string;
}

/**
 * Mocks for `pulumi.runtime.setMocks`. A resource or invoke under an explicit AWS provider takes that provider's
 * region (and so its partition); everything else the stack's default region.
 */
export class CloudMocks implements pulumi.runtime.Mocks {
  private readonly providerRegions = new Map<string, string>();
  readonly accountId: string;

  constructor(private readonly options: MockOptions) {
    this.accountId = options.accountId ?? MOCK_ACCOUNT_ID;
  }

  private regionOf(inputs: Record<string, any>, provider: string | undefined): string {
    if (typeof inputs.region === "string") return inputs.region;
    const providerId = provider?.split("::").pop() ?? "";
    return this.providerRegions.get(providerId) ?? this.options.region;
  }

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
    const { type, name, inputs } = args;
    const remote = remoteComponentState(type, name, inputs);
    if (remote) return { id: "", state: remote };
    if (args.custom === false) return { id: "", state: inputs };
    const region = this.regionOf(inputs, args.provider);
    if (type === "pulumi:providers:aws") {
      const id = `provider-${shortHash(type, name, region).slice(0, 12)}`;
      this.providerRegions.set(id, region);
      return { id, state: { ...inputs, id } };
    }
    return customResourceState(type, name, inputs, { region, account: this.accountId });
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    const region = this.regionOf(args.inputs ?? {}, args.provider);
    return invokeResult(args.token, args.inputs ?? {}, { region, account: this.accountId });
  }
}

/**
 * Installs the mocks for a project/stack and returns the recorder. `preview` false makes every output known,
 * like the result of `pulumi up`, so that documents can be checked in full.
 */
export async function installMocks(
  options: MockOptions & { project?: string; stack?: string; preview?: boolean },
): Promise<{ mocks: CloudMocks; recorded: RecordedResource[] }> {
  const mocks = new CloudMocks(options);
  await pulumi.runtime.setMocks(
    mocks,
    options.project ?? "cirunners",
    options.stack ?? "test",
    options.preview ?? false,
  );
  return { mocks, recorded: recordRegistrations() };
}
