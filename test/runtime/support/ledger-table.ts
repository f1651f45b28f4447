/**
 * The ledger table in moto, created exactly as contract/ledger.ts describes it (partition key, the sparse due index
 * and its projection), so the adapter is tested against the schema the program deploys.
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LEDGER_KEYS } from "../../../contract/ledger.js";
import { type Ledger, ledgerOf } from "../../../runtime/adapters/ledger.js";

export async function createLedgerTable(dynamodb: DynamoDBClient, table = "jobs"): Promise<Ledger> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: "N" },
        { AttributeName: LEDGER_KEYS.dueIndexPartitionKey, AttributeType: "S" },
        { AttributeName: LEDGER_KEYS.dueIndexSortKey, AttributeType: "S" },
      ],
      KeySchema: [{ AttributeName: LEDGER_KEYS.partitionKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: [
        {
          IndexName: LEDGER_KEYS.dueIndex,
          KeySchema: [
            { AttributeName: LEDGER_KEYS.dueIndexPartitionKey, KeyType: "HASH" },
            { AttributeName: LEDGER_KEYS.dueIndexSortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: LEDGER_KEYS.dueIndexProjection },
        },
      ],
    }),
  );
  return ledgerOf(dynamodb, table);
}

export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({});
}
