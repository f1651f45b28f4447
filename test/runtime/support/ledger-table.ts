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

/** The writes DynamoDB applies to an item one at a time. */
const WRITES = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "TransactWriteItemsCommand"]);
/** The one queue every test client's writes go through (shared: two launchers in one test have two clients). */
let writes: Promise<unknown> = Promise.resolve();

/**
 * A DynamoDB client whose writes reach moto one at a time. DynamoDB serialises the writes to one item, so of two
 * conditional writes made from the same state exactly one lands; moto checks and applies them without a lock, so
 * two that arrive together can both land (both conditions pass before either write). A test of a race between two
 * claims would then see two winners now and then: the lock makes moto answer as DynamoDB does, without making the
 * callers sequential (they still read, decide and send at the same time).
 *
 * Still needed: these tests talk to moto directly, not through the simulation's counting proxy, which serialises
 * writes per item (simulation/dynamodb-write-order.ts `ItemLocks`). This lock is coarser (all writes of all test clients, one at a
 * time): harsher on latency than DynamoDB, never on outcomes, and the tests measure no latency.
 */
export function dynamoClient(): DynamoDBClient {
  const client = new DynamoDBClient({});
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITES.has(context.commandName ?? "")) return next(args);
      const turn = writes.then(() => next(args));
      writes = turn.catch(() => undefined);
      return turn;
    },
    { step: "initialize", name: "oneWriteAtATime" },
  );
  return client;
}
