/**
 * The `cirunners:arc` stack key: one EKS cluster (created, or an existing one by name) with spot capacity per size
 * class and actions-runner-controller's runner scale sets. `arcConfigSchema` is the fragment the stack schema
 * mounts under `arc`; `parseArcConfig` validates it alone, with one message per bad key.
 */
import { z } from "zod";
import { instanceTypeArchitecture, SIZE_CLASSES } from "./capacity";

/** The key the stack files use; errors name paths below it. */
export const ARC_CONFIG_KEY = "cirunners:arc";

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Instance type names such as m7i.xlarge, c6a.2xlarge, r7g.large. */
const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9]*\d[a-z0-9]*(-flex)?\.[a-z0-9]+$/, "expected an EC2 instance type like m7i.xlarge");
const semver = z.string().regex(/^\d+\.\d+\.\d+$/, "expected an exact chart version like 0.14.2 (no range)");
const kubernetesVersion = z.string().regex(/^1\.\d{2}$/, 'expected a Kubernetes minor version like "1.33"');
const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, "expected an IPv4 CIDR block like 203.0.113.0/24")
  .refine((c) => !c.endsWith("/0"), "a /0 block opens the API server to the whole internet: list your own ranges");
const principalArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, "expected an IAM role or user ARN");
/** Kubernetes quantities as the runner pods request them: cpu "1500m" or "2", memory "4Gi". */
const cpuQuantity = z.string().regex(/^\d+(\.\d+)?m?$/, 'expected a CPU quantity like "2" or "1500m"');
const memoryQuantity = z.string().regex(/^\d+(Mi|Gi)$/, 'expected a memory quantity like "4Gi" or "512Mi"');
/** ARC scale set names become the `runs-on` value and Kubernetes names: the chart fails beyond 45 characters. */
const scaleSetName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,43}[a-z0-9])?$/, "expected a lower-case name of at most 45 letters, digits and dashes");
const ecrRepositoryName = z
  .string()
  .regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, "expected an ECR repository name");

const createdClusterSchema = z
  .object({
    /** EKS cluster name; default `ci-<stack>`. */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "expected an EKS cluster name")
      .optional(),
    version: kubernetesVersion,
    /** Absent: private endpoint only (deploy from inside the VPC). Present: public endpoint for these ranges. */
    publicAccessCidrs: z
      .array(cidr)
      .min(1, "expected at least one CIDR, or omit the key for a private endpoint")
      .optional(),
    /** Principals granted cluster admin through access entries, besides the deployer. */
    adminPrincipalArns: z.array(principalArn).default([]),
    logTypes: z
      .array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]))
      .min(1, "expected at least one control-plane log type")
      .default(["api", "audit", "authenticator"]),
  })
  .strict();

const existingClusterSchema = z
  .object({ existingName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, "expected an EKS cluster name") })
  .strict();

const sizeClassSchema = z
  .object({
    /** Overrides the diversified defaults of `capacity.ts`; same vCPU and memory keep the autoscaler accurate. */
    instanceTypes: z
      .array(instanceType)
      .min(2, "expected at least two instance types (spot diversification)")
      .optional(),
    /** Default: the sum of maxRunners of the class's scale sets (one runner per node, the worst case). */
    maxNodes: z.number().int().min(1).max(1000).optional(),
    diskSizeGiB: z.number().int().min(20).max(16384).default(100),
  })
  .strict();

const scaleSetSchema = z
  .object({
    name: scaleSetName,
    sizeClass: z.enum(SIZE_CLASSES).default("default"),
    minRunners: z.number().int().min(0).default(0),
    maxRunners: z.number().int().min(1).max(1000),
    /** GitHub runner group; absent = the organization's default group. */
    runnerGroup: z.string().min(1).max(100).optional(),
    /** Overrides the size class's per-runner requests. */
    cpu: cpuQuantity.optional(),
    memory: memoryQuantity.optional(),
  })
  .strict();

export const arcConfigSchema = z
  .object({
    cluster: z.union([existingClusterSchema, createdClusterSchema]),
    architecture: z.enum(["x64", "arm64"]).default("x64"),
    /** On-demand nodes for the controller, listeners, autoscaler and CoreDNS. */
    system: z
      .object({
        instanceTypes: z.array(instanceType).min(1).optional(),
        nodes: z.number().int().min(1).max(10).default(2),
      })
      .strict()
      .prefault({}),
    sizeClasses: z
      .object({
        default: sizeClassSchema.optional(),
        "cpu-heavy": sizeClassSchema.optional(),
        "memory-heavy": sizeClassSchema.optional(),
      })
      .strict()
      .default({}),
    charts: z
      .object({
        /** One version for both ARC charts: the controller and scale sets must match. */
        arc: semver,
        clusterAutoscaler: semver,
        /** registry.k8s.io/autoscaling/cluster-autoscaler tag; its minor must be the cluster's. */
        clusterAutoscalerImage: z.string().regex(/^v1\.\d{2}\.\d+$/, "expected an image tag like v1.33.0"),
      })
      .strict(),
    /** The runner image (actions/runner's image or one built from it). */
    runnerImage: z.string().min(1).default("ghcr.io/actions/actions-runner:latest"),
    /** The GitHub App's installation id on the organization (ARC's secret needs it). */
    githubAppInstallationId: z.number().int().positive(),
    /** ECR repositories in the stack's account and region the runners may push to and pull from. */
    ecrRepositories: z.array(ecrRepositoryName).default([]),
    logRetentionDays: z
      .number()
      .int()
      .refine(
        (d) => LOG_RETENTION_DAYS.includes(d),
        `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
      )
      .default(30),
    scaleSets: z.array(scaleSetSchema).min(1, "expected at least one runner scale set"),
  })
  .strict()
  .superRefine((arc, ctx) => {
    const seen = new Map<string, number>();
    arc.scaleSets.forEach((set, i) => {
      if (seen.has(set.name))
        ctx.addIssue({
          code: "custom",
          path: ["scaleSets", i, "name"],
          message: `duplicate scale set name (also scaleSets[${seen.get(set.name)}])`,
          input: set.name,
        });
      seen.set(set.name, i);
      if (set.minRunners > set.maxRunners)
        ctx.addIssue({
          code: "custom",
          path: ["scaleSets", i, "minRunners"],
          message: `expected at most maxRunners (${set.maxRunners})`,
          input: set.minRunners,
        });
    });
    for (const [sizeClass, settings] of Object.entries(arc.sizeClasses)) {
      settings?.instanceTypes?.forEach((type, i) => {
        if (instanceTypeArchitecture(type) !== arc.architecture)
          ctx.addIssue({
            code: "custom",
            path: ["sizeClasses", sizeClass, "instanceTypes", i],
            message: `instance type is ${instanceTypeArchitecture(type)} but architecture is ${arc.architecture}`,
            input: type,
          });
      });
    }
    if ("version" in arc.cluster) {
      const imageMinor = /^v(1\.\d{2})\./.exec(arc.charts.clusterAutoscalerImage)?.[1];
      // The autoscaler supports only the Kubernetes minor it was built for (its README's version table).
      if (imageMinor && imageMinor !== arc.cluster.version)
        ctx.addIssue({
          code: "custom",
          path: ["charts", "clusterAutoscalerImage"],
          message: `expected a ${arc.cluster.version}.x tag to match cluster.version`,
          input: arc.charts.clusterAutoscalerImage,
        });
    }
  });

/** What a stack file may write (defaults not applied yet). */
export type ArcConfigInput = z.input<typeof arcConfigSchema>;
export type ArcConfig = z.output<typeof arcConfigSchema>;
export type ArcScaleSet = ArcConfig["scaleSets"][number];
export type ArcClusterConfig = ArcConfig["cluster"];
export type CreatedClusterConfig = z.output<typeof createdClusterSchema>;

export function isExistingCluster(cluster: ArcClusterConfig): cluster is { existingName: string } {
  return "existingName" in cluster;
}

/** A bad `cirunners:arc` value: one line per problem, each naming its key. */
export class ArcConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid ${ARC_CONFIG_KEY}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ArcConfigError";
  }
}

function keyPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === "number" ? `${out}[${part}]` : `${out}.${String(part)}`),
    ARC_CONFIG_KEY,
  );
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  // The cluster is either kind: report against the branch the input meant (an existingName means "existing").
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const best = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    return best.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] }));
  }
  if (issue.code === "unrecognized_keys")
    return issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key (check its spelling)`);
  const found = "input" in issue && issue.input !== undefined ? JSON.stringify(issue.input) : "nothing";
  const expected = issue.code === "invalid_type" ? `expected ${issue.expected}` : issue.message;
  return [`${keyPath(issue.path)}: ${expected}, found ${found}`];
}

/** Validates a decoded `cirunners:arc` value. */
export function parseArcConfig(raw: unknown): ArcConfig {
  const result = arcConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ArcConfigError(result.error.issues.flatMap(describeIssue));
  return result.data;
}
