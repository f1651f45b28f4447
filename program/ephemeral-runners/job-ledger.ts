/**
 * The job ledger's table (`contract/ledger.ts`): one record per GitHub job, written by the webhook, the launcher and
 * the reconciler with conditional writes, read by the reaper. Keys, index and TTL attribute come from LEDGER_KEYS,
 * the same constants the runtime's adapter uses.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type AwsLocation, dynamodbIndexArn, dynamodbTableArn } from "../../contract/arn";
import { LEDGER_KEYS } from "../../contract/ledger";

export interface JobLedgerArgs {
  /** The stack's partition, region and account: the table's and its index's ARNs are built from them. */
  readonly location: pulumi.Input<AwsLocation>;
  /**
   * Refuse `DeleteTable` (and so `pulumi destroy` or a replacement) until this is turned off. The ledger is what
   * keeps a redelivered webhook from starting a second runner and a cancelled job's runner from idling: losing it
   * on a live stack drops every queued job's bookkeeping.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Tags for the table.
   * @default no tags
   */
  readonly tags?: Record<string, string>;
}

export class JobLedger extends pulumi.ComponentResource {
  public readonly table: aws.dynamodb.Table;
  public readonly tableName: pulumi.Output<string>;
  /** ARN of the table: item reads and writes (GetItem, PutItem, UpdateItem) are authorised on it. */
  public readonly tableArn: pulumi.Output<string>;
  /** ARN of the sparse `due` index: the reconciler's Query is authorised on it, not on the table. */
  public readonly dueIndexArn: pulumi.Output<string>;

  constructor(name: string, args: JobLedgerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("cirunners:index:JobLedger", name, {}, opts);
    const keys = LEDGER_KEYS;

    this.table = new aws.dynamodb.Table(
      name,
      {
        // On demand: the load follows CI (bursts of a matrix, quiet nights), which provisioned capacity would
        // either throttle or pay for idle.
        billingMode: "PAY_PER_REQUEST",
        hashKey: keys.partitionKey,
        attributes: [
          { name: keys.partitionKey, type: "N" },
          { name: keys.dueIndexPartitionKey, type: "S" },
          { name: keys.dueIndexSortKey, type: "S" },
        ],
        globalSecondaryIndexes: [
          {
            name: keys.dueIndex,
            keySchemas: [
              { attributeName: keys.dueIndexPartitionKey, keyType: "HASH" },
              { attributeName: keys.dueIndexSortKey, keyType: "RANGE" },
            ],
            // The reconciler acts on whole records (labels, repository, runners, version for the conditional
            // write): projecting them all saves a GetItem per due job. Only records that carry `dueAt` (queued,
            // launching, launched) are in the index, so it stays small.
            projectionType: "ALL",
          },
        ],
        ttl: { attributeName: keys.ttlAttribute, enabled: true },
        pointInTimeRecovery: { enabled: true },
        // `enabled: false` selects the AWS-owned key (DynamoDB encrypts every table at rest). A customer-managed
        // key would protect nothing more here: records hold job ids, repository names, labels and instance ids,
        // the same data the job queue carries under SQS-managed encryption, never a credential (JIT configs stay
        // in SSM SecureStrings). It would cost a key, a rotation to keep (the pack's KMS rule) and KMS grants
        // (`kms:ViaService` dynamodb) on every function that touches the table.
        serverSideEncryption: { enabled: false },
        deletionProtectionEnabled: args.deletionProtection ?? false,
        tags: args.tags,
      },
      { parent: this },
    );

    this.tableName = this.table.name;
    // Built from the name through contract/arn.ts, in the stack's partition, like every other ARN of the program.
    this.tableArn = pulumi
      .all([args.location, this.table.name])
      .apply(([where, table]) => dynamodbTableArn(where, table));
    this.dueIndexArn = pulumi
      .all([args.location, this.table.name])
      .apply(([where, table]) => dynamodbIndexArn(where, table, keys.dueIndex));

    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn, dueIndexArn: this.dueIndexArn });
  }
}
