/**
 * ECR access of the runner pods through EKS Pod Identity: a role that may push to and pull from the configured
 * repositories and nothing else, associated with the runners' service account. Pod Identity rather than IRSA:
 * no OIDC provider per cluster, no role-ARN annotation, and the trust policy does not change with the cluster.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsLocation } from "../../contract/arn";
import { policyDocument } from "../shared/iam";
import { ecrPushPullStatements, podIdentityTrustPolicy } from "./policies";

export interface RunnerEcrAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly location: pulumi.Input<AwsLocation>;
  /** ECR repository names in the stack's account and region. */
  readonly repositories: readonly string[];
  /** Namespace and service account of the runner pods. */
  readonly namespace: string;
  readonly serviceAccount: string;
  /**
   * Tags for every taggable child.
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

export class RunnerEcrAccess extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: RunnerEcrAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:arc:EcrAccess", name, {}, opts);
    const child = { parent: this };
    const tags = args.tags ?? {};
    const location = pulumi.output(args.location);

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: `ARC runner pods: push and pull on ${args.repositories.length} ECR repositories`,
        assumeRolePolicy: location.apply((l) => podIdentityTrustPolicy(l.account)),
        tags,
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        policy: policyDocument(location.apply((l) => ecrPushPullStatements(l, args.repositories))),
      },
      child,
    );
    new aws.eks.PodIdentityAssociation(
      `${name}-identity`,
      {
        clusterName: args.clusterName,
        namespace: args.namespace,
        serviceAccount: args.serviceAccount,
        roleArn: this.role.arn,
        tags,
      },
      child,
    );

    this.roleArn = this.role.arn;
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
