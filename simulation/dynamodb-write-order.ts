/**
 * The counting proxy's per-item DynamoDB write ordering (proxy.ts): DynamoDB serialises the writes to one item, so of
 * two conditional writes made from the same state exactly one lands, while moto checks and applies them without a
 * lock (two that arrive together can both land: 3 in 200 measured). So each write waits for the locks of the items
 * it touches before it is forwarded. Writes to different items, and all reads, still run concurrently, so the
 * simulation is neither kinder nor harsher than DynamoDB.
 *
 * Keyed requests (UpdateItem, DeleteItem, …) name their items by key; puts carry the whole item, whose key attributes
 * come from the table's key schema (DescribeTable, asked of the emulator once per table).
 */
import { type IncomingMessage, request as httpRequest } from "node:http";

/** The DynamoDB operations that write items; each names the items it writes in its JSON body. */
const DYNAMODB_WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]);
const DYNAMODB_TARGET = "DynamoDB_20120810.";

type AttributeValues = Record<string, unknown>;

/** One item's lock name: its table and its key attributes (sorted by name, so attribute order does not matter). */
export function itemLockName(table: string, key: AttributeValues): string {
  const names = Object.keys(key).sort();
  return JSON.stringify([table, ...names.map((name) => [name, key[name]])]);
}

/** The key of an item as a PutItem (or a put in a transaction or batch) writes it: its key attributes only. */
function keyOf(item: AttributeValues, keyNames: readonly string[]): AttributeValues {
  return Object.fromEntries(keyNames.map((name) => [name, item[name]]));
}

/** What a write touches: `key` for keyed requests, `item` (key names needed) for puts. */
interface Touch {
  table: string;
  key?: AttributeValues;
  item?: AttributeValues;
}

/** The items a DynamoDB write request touches (empty for anything else, or a body that does not parse). */
export function touchedItems(operation: string, body: string): Touch[] {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return [];
  }
  const table = String(input.TableName ?? "");
  switch (operation) {
    case "UpdateItem":
    case "DeleteItem":
      return [{ table, key: input.Key as AttributeValues }];
    case "PutItem":
      return [{ table, item: input.Item as AttributeValues }];
    case "TransactWriteItems":
      return ((input.TransactItems ?? []) as Array<Record<string, Record<string, unknown>>>).flatMap(
        (entry): Touch[] => {
          const action = entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck;
          if (!action) return [];
          const name = String(action.TableName ?? "");
          return entry.Put
            ? [{ table: name, item: action.Item as AttributeValues }]
            : [{ table: name, key: action.Key as AttributeValues }];
        },
      );
    case "BatchWriteItem":
      return Object.entries(
        (input.RequestItems ?? {}) as Record<string, Array<Record<string, Record<string, unknown>>>>,
      ).flatMap(([name, requests]) =>
        requests.map((request) =>
          request.PutRequest
            ? { table: name, item: request.PutRequest.Item as AttributeValues }
            : { table: name, key: request.DeleteRequest?.Key as AttributeValues },
        ),
      );
    default:
      return [];
  }
}

/**
 * Per-name locks, each a promise chain: a holder waits for the one before it and releases the one after it. Several
 * names are taken in sorted order, so two requests that touch the same items cannot each hold one the other waits for.
 */
export class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Number of names locked or waited for now. */
  get size(): number {
    return this.tails.size;
  }

  async acquire(names: readonly string[]): Promise<() => void> {
    const releases: Array<() => void> = [];
    for (const name of [...new Set(names)].sort()) {
      const before = this.tails.get(name) ?? Promise.resolve();
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = before.then(() => held);
      this.tails.set(name, tail);
      releases.push(() => {
        release();
        if (this.tails.get(name) === tail) this.tails.delete(name);
      });
      await before;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const release of releases) release();
    };
  }
}

/** The key attribute names of a table, from the emulator's DescribeTable (the caller's headers sign it for moto). */
function describeKeyNames(to: URL, req: IncomingMessage, table: string): Promise<string[]> {
  const body = JSON.stringify({ TableName: table });
  const headers = {
    ...req.headers,
    "x-amz-target": `${DYNAMODB_TARGET}DescribeTable`,
    "content-length": String(Buffer.byteLength(body)),
  };
  return new Promise((resolve, reject) => {
    const ask = httpRequest({ host: to.hostname, port: to.port, method: "POST", path: "/", headers }, (answer) => {
      const parts: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => parts.push(chunk));
      answer.on("error", reject);
      answer.on("end", () => {
        if (answer.statusCode !== 200) return reject(new Error(`DescribeTable ${table}: ${answer.statusCode}`));
        const described = JSON.parse(Buffer.concat(parts).toString("utf8")) as {
          Table?: { KeySchema?: Array<{ AttributeName: string }> };
        };
        const names = described.Table?.KeySchema?.map((k) => k.AttributeName) ?? [];
        if (names.length === 0) return reject(new Error(`DescribeTable ${table}: no key schema`));
        resolve(names);
      });
    });
    ask.on("error", reject);
    ask.end(body);
  });
}

/** One proxy's write ordering: its item locks and the key schemas of the tables its requests wrote to. */
export class DynamoDbWriteOrder {
  private readonly locks = new ItemLocks();
  private readonly keySchemas = new Map<string, Promise<string[]>>();

  /**
   * Waits until the request may reach the emulator `to` and returns the release, to call once the emulator's answer
   * is complete (or the request failed). Anything but a DynamoDB write passes at once; a write whose items cannot be
   * named is not held back (the emulator rejects it anyway).
   */
  async acquire(req: IncomingMessage, action: string, body: Buffer, to: URL): Promise<() => void> {
    return this.locks.acquire(await this.lockNamesOf(req, action, body, to).catch(() => []));
  }

  /** A table's key attribute names, asked of the emulator once (DescribeTable, signed as the request that needs it). */
  private keyNamesOf(table: string, to: URL, req: IncomingMessage): Promise<string[]> {
    const cacheKey = `${to.origin} ${table}`;
    let names = this.keySchemas.get(cacheKey);
    if (!names) {
      names = describeKeyNames(to, req, table);
      this.keySchemas.set(cacheKey, names);
      names.catch(() => this.keySchemas.delete(cacheKey));
    }
    return names;
  }

  /** The lock names of the items a DynamoDB write touches (none for anything else). */
  private async lockNamesOf(req: IncomingMessage, action: string, body: Buffer, to: URL): Promise<string[]> {
    const target = req.headers["x-amz-target"];
    if (typeof target !== "string" || !target.startsWith(DYNAMODB_TARGET)) return [];
    if (action === "CreateTable" || action === "DeleteTable") {
      // A table created again under the same name may have another key schema.
      const table = String((JSON.parse(body.toString("utf8") || "{}") as { TableName?: unknown }).TableName ?? "");
      this.keySchemas.delete(`${to.origin} ${table}`);
      return [];
    }
    if (!DYNAMODB_WRITES.has(action)) return [];
    return Promise.all(
      touchedItems(action, body.toString("utf8")).map(async ({ table, key, item }) => {
        if (key) return itemLockName(table, key);
        // A table the emulator cannot describe: the write fails there anyway; the whole item names the lock.
        const names = await this.keyNamesOf(table, to, req).catch(() => undefined);
        return itemLockName(table, names ? keyOf(item ?? {}, names) : (item ?? {}));
      }),
    );
  }
}
