/**
 * The counting proxy's DynamoDB write locks (simulation/proxy.ts): writes to one item reach the emulator one at a
 * time, as DynamoDB applies them, so of concurrent conditional writes from the same state exactly one lands; writes
 * to different items and reads are not held back.
 */
import { strict as assert } from "node:assert";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { ItemLocks, itemLockName, touchedItems } from "../../simulation/dynamodb-write-order";
import { type CountingProxy, startCountingProxy } from "../../simulation/proxy";
import { type MotoServer, startMoto } from "../../testkit/moto";

const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
const client = (endpoint: string) => new DynamoDBClient({ endpoint, region: "us-east-1", credentials });

describe("counting proxy: DynamoDB writes one at a time per item (moto)", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let proxy: CountingProxy;

  before(async () => {
    moto = await startMoto({ setEnv: false });
    proxy = await startCountingProxy(moto.endpoint);
    await client(proxy.url).send(
      new CreateTableCommand({
        TableName: "items",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "id", AttributeType: "N" }],
        KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      }),
    );
  });
  after(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  it("lets exactly one of two conditional updates from the same state land, every time", async () => {
    // moto checks and applies an update without a lock; the bigger the item, the longer the gap between the two, so
    // the items here carry a 300-entry list (a ledger record's runners, much enlarged). Measured without the lock:
    // about one pair in eight both land, so 50 pairs have two winners somewhere in all but ~1 run in 1000.
    const dynamodb = client(proxy.url);
    const big = {
      L: Array.from({ length: 300 }, (_, i) => ({ M: { n: { N: String(i) }, s: { S: "x".repeat(20) } } })),
    };
    const update = (id: number, to: number) =>
      dynamodb
        .send(
          new UpdateItemCommand({
            TableName: "items",
            Key: { id: { N: String(id) } },
            ConditionExpression: "v = :from",
            UpdateExpression: "SET v = :to",
            ExpressionAttributeValues: { ":from": { N: "0" }, ":to": { N: String(to) } },
          }),
        )
        .then(
          () => 1,
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return 0;
            throw error;
          },
        );
    const doubles: Array<[number, number]> = [];
    for (let batch = 0; batch < 5; batch++)
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const id = batch * 10 + i;
          await dynamodb.send(
            new PutItemCommand({ TableName: "items", Item: { id: { N: String(id) }, v: { N: "0" }, big } }),
          );
          const winners = (await Promise.all([update(id, 1), update(id, 2)])).reduce((a, b) => a + b, 0);
          if (winners !== 1) doubles.push([id, winners]);
        }),
      );
    assert.deepEqual(doubles, [], "[item, winners] where the conditional update landed other than once");
  });
});

/** An emulator stand-in that holds every request until the test answers it. */
class HeldUpstream {
  readonly held: Array<{ target: string; body: string; answer: (payload: unknown) => void }> = [];
  private server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const answer = (payload: unknown) => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(JSON.stringify(payload));
      };
      if (target.endsWith(".DescribeTable")) {
        this.describes += 1;
        return answer({ Table: { KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }] } });
      }
      this.held.push({ target, body: Buffer.concat(chunks).toString("utf8"), answer });
      this.arrived?.();
    });
  });
  describes = 0;
  private arrived?: () => void;
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (!address || typeof address === "string") throw new Error("no port");
    this.url = `http://127.0.0.1:${address.port}`;
  }
  /** Resolves once `n` requests are held (or after `ms`, with however many there are). */
  async until(n: number, ms = 300): Promise<number> {
    const deadline = Date.now() + ms;
    while (this.held.length < n && Date.now() < deadline)
      await new Promise<void>((resolve) => {
        this.arrived = resolve;
        setTimeout(resolve, 20);
      });
    return this.held.length;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Sends a DynamoDB JSON request through the proxy, unsigned but with a SigV4-shaped Authorization header. */
function send(proxy: CountingProxy, operation: string, input: unknown): Promise<Response> {
  return fetch(proxy.url, {
    method: "POST",
    headers: {
      "x-amz-target": `DynamoDB_20120810.${operation}`,
      "content-type": "application/x-amz-json-1.0",
      authorization: "AWS4-HMAC-SHA256 Credential=caller/20250101/us-east-1/dynamodb/aws4_request, Signature=x",
    },
    body: JSON.stringify(input),
  });
}

describe("counting proxy: which DynamoDB requests wait for each other", () => {
  let upstream: HeldUpstream;
  let proxy: CountingProxy;
  beforeEach(async () => {
    upstream = new HeldUpstream();
    await upstream.start();
    proxy = await startCountingProxy(upstream.url);
  });
  afterEach(async () => {
    await proxy.stop();
    await upstream.stop();
  });
  const key = (pk: string) => ({ pk: { S: pk } });

  it("holds a second write to an item until the first one's answer is complete", async () => {
    const first = send(proxy, "UpdateItem", { TableName: "t", Key: key("a") });
    const second = send(proxy, "DeleteItem", { TableName: "t", Key: key("a") });
    assert.equal(await upstream.until(2), 1, "only one write to the item reaches the emulator");
    upstream.held[0].answer({});
    await first;
    assert.equal(await upstream.until(2), 2, "the second goes once the first is answered");
    upstream.held[1].answer({});
    await second;
  });

  it("lets writes to different items, and reads of a written item, run at the same time", async () => {
    const requests = [
      send(proxy, "UpdateItem", { TableName: "t", Key: key("a") }),
      send(proxy, "UpdateItem", { TableName: "t", Key: key("b") }),
      send(proxy, "UpdateItem", { TableName: "other", Key: key("a") }),
      send(proxy, "GetItem", { TableName: "t", Key: key("a") }),
      send(proxy, "Query", { TableName: "t" }),
    ];
    assert.equal(await upstream.until(5), 5);
    for (const held of upstream.held) held.answer({});
    await Promise.all(requests);
  });

  it("locks a put by the table's key attributes (DescribeTable once per table) and a transaction by all its items", async () => {
    const put = send(proxy, "PutItem", { TableName: "t", Item: { ...key("a"), v: { N: "1" } } });
    assert.equal(await upstream.until(1), 1);
    const update = send(proxy, "UpdateItem", { TableName: "t", Key: key("a") });
    const otherPut = send(proxy, "PutItem", { TableName: "t", Item: { ...key("b"), v: { N: "2" } } });
    const transaction = send(proxy, "TransactWriteItems", {
      TransactItems: [
        { Update: { TableName: "t", Key: key("c") } },
        { Put: { TableName: "t", Item: { ...key("a"), w: { N: "3" } } } },
      ],
    });
    assert.equal(await upstream.until(3), 2, "the other item's put runs; the update and transaction on `a` wait");
    assert.equal(upstream.describes, 1, "the key schema asked once");
    upstream.held[0].answer({});
    upstream.held[1].answer({});
    await Promise.all([put, otherPut]);
    assert.equal(await upstream.until(3), 3);
    assert.equal(await upstream.until(4), 3, "the transaction waits for the update on `a`");
    upstream.held[2].answer({});
    await upstream.until(4);
    assert.deepEqual(
      upstream.held.map((h) => h.target.split(".")[1]),
      ["PutItem", "PutItem", "UpdateItem", "TransactWriteItems"],
    );
    upstream.held[3].answer({});
    await Promise.all([update, transaction]);
  });
});

describe("ItemLocks", () => {
  it("names an item by table and key, whatever the attribute order", () => {
    assert.equal(
      itemLockName("t", { b: { S: "1" }, a: { N: "2" } }),
      itemLockName("t", { a: { N: "2" }, b: { S: "1" } }),
    );
    assert.notEqual(itemLockName("t", { a: { N: "2" } }), itemLockName("u", { a: { N: "2" } }));
  });

  it("finds the items of every DynamoDB write", () => {
    assert.deepEqual(
      touchedItems(
        "BatchWriteItem",
        JSON.stringify({
          RequestItems: {
            t: [
              { PutRequest: { Item: { pk: { S: "a" }, v: { N: "1" } } } },
              { DeleteRequest: { Key: { pk: { S: "b" } } } },
            ],
          },
        }),
      ),
      [
        { table: "t", item: { pk: { S: "a" }, v: { N: "1" } } },
        { table: "t", key: { pk: { S: "b" } } },
      ],
    );
    assert.deepEqual(touchedItems("GetItem", "{}"), []);
  });

  it("does not deadlock two holders of overlapping sets, and frees what it no longer holds", async () => {
    const locks = new ItemLocks();
    const order: string[] = [];
    const run = async (name: string, names: string[]) => {
      const release = await locks.acquire(names);
      order.push(name);
      await new Promise((r) => setTimeout(r, 5));
      release();
    };
    await Promise.all([run("x", ["a", "b"]), run("y", ["b", "a"]), run("z", ["b"])]);
    assert.deepEqual(order.sort(), ["x", "y", "z"]);
    assert.equal(locks.size, 0);
  });
});
