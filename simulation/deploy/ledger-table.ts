/**
 * The job ledger's DynamoDB table, created in moto from its recorded aws.dynamodb.Table inputs (key schema,
 * attribute definitions, global secondary indexes, billing mode, TTL, point-in-time recovery), as `pulumi up` would
 * through CreateTable, UpdateTimeToLive and UpdateContinuousBackups.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { resourcesOfType, type StackSnapshot } from "../stack";
import { bool, str } from "./recorded";

interface RecordedIndex {
  name: string;
  hashKey?: string;
  rangeKey?: string;
  keySchemas?: Array<{ attributeName: string; keyType: string }>;
  projectionType?: string;
  nonKeyAttributes?: string[];
}

function keySchema(hash?: string, range?: string, explicit?: RecordedIndex["keySchemas"]): KeySchemaElement[] {
  if (explicit?.length)
    return explicit.map((k) => ({ AttributeName: k.attributeName, KeyType: k.keyType as "HASH" | "RANGE" }));
  if (!hash) throw new Error("a DynamoDB key schema needs a hash key");
  return [
    { AttributeName: hash, KeyType: "HASH" },
    ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
  ];
}

/** Creates the stack's ledger table, if it declares one; returns its name. */
export async function deployLedgerTable(
  snapshot: StackSnapshot,
  dynamodb: DynamoDBClient,
  /** The table name the functions' environment holds (the table is auto-named: the mocks' output name). */
  recordedName: string | undefined,
  steps: string[],
): Promise<string | undefined> {
  const tables = resourcesOfType(snapshot, "aws:dynamodb/table:Table");
  if (tables.length === 0) return undefined;
  if (tables.length > 1)
    throw new Error(`stack ${snapshot.stack} declares ${tables.length} DynamoDB tables, expected 1`);
  const inputs = tables[0].inputs as Record<string, unknown>;
  const name = str(inputs.name) ?? recordedName;
  if (!name) throw new Error(`the ledger table ${tables[0].name} has no name, and no function names it`);
  const billing = str(inputs.billingMode) ?? "PROVISIONED";
  const attributes = (inputs.attributes as Array<{ name: string; type: string }>) ?? [];
  const indexes = (inputs.globalSecondaryIndexes as RecordedIndex[] | undefined) ?? [];
  const throughput = billing === "PROVISIONED" ? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } : undefined;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: billing as "PAY_PER_REQUEST" | "PROVISIONED",
      ProvisionedThroughput: throughput,
      AttributeDefinitions: attributes.map((a) => ({
        AttributeName: a.name,
        AttributeType: a.type as "S" | "N" | "B",
      })),
      KeySchema: keySchema(str(inputs.hashKey), str(inputs.rangeKey)),
      GlobalSecondaryIndexes: indexes.length
        ? indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.hashKey, index.rangeKey, index.keySchemas),
            Projection: {
              ProjectionType: (index.projectionType ?? "ALL") as "ALL" | "KEYS_ONLY" | "INCLUDE",
              NonKeyAttributes: index.nonKeyAttributes,
            },
            ProvisionedThroughput: throughput,
          }))
        : undefined,
    }),
  );
  const ttl = inputs.ttl as { attributeName?: string; enabled?: unknown } | undefined;
  if (ttl?.attributeName && bool(ttl.enabled) !== false)
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: ttl.attributeName, Enabled: true },
      }),
    );
  const pitr = inputs.pointInTimeRecovery as { enabled?: unknown } | undefined;
  if (bool(pitr?.enabled))
    await dynamodb.send(
      new UpdateContinuousBackupsCommand({
        TableName: name,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
  steps.push(
    `DynamoDB table ${name} (${billing}, ${indexes.length} index(es)${ttl?.attributeName ? `, TTL on ${ttl.attributeName}` : ""}${bool(pitr?.enabled) ? ", point-in-time recovery" : ""})`,
  );
  return name;
}
