/**
 * The Secrets Manager adapter (runtime/adapters/secrets.ts) against moto's server mode: what the webhook reads its
 * secret with. Nothing in the SDK is mocked.
 */
import assert from "node:assert/strict";
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretStringReader } from "../../../runtime/adapters/secrets.js";
import { type MotoServer, startMoto } from "../../../testkit/moto.js";

describe("adapters/secrets: secretStringReader against moto", function () {
  this.timeout(60_000);
  let moto: MotoServer;
  let client: SecretsManagerClient;

  before(async () => {
    moto = await startMoto({ region: "eu-west-1" });
    client = new SecretsManagerClient({});
  });
  after(async () => {
    client?.destroy();
    await moto?.stop();
  });

  async function create(name: string, value: { SecretString?: string; SecretBinary?: Uint8Array }) {
    const { ARN } = await client.send(new CreateSecretCommand({ Name: name, ...value }));
    assert.ok(ARN);
    return ARN;
  }

  it("reads the secret's string by ARN", async () => {
    const arn = await create("webhook-by-arn", { SecretString: "hmac-key-1" });
    assert.equal(await secretStringReader(client)(arn, 300), "hmac-key-1");
  });

  it("keeps the value for maxAge seconds in the container, and reads a new value after that", async () => {
    const arn = await create("webhook-cached", { SecretString: "first" });
    let clock = 0;
    const read = secretStringReader(client, () => clock);
    assert.equal(await read(arn, 1), "first");
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "second" }));
    clock = 999;
    assert.equal(await read(arn, 1), "first", "cached: no call within maxAge");
    clock = 1000;
    assert.equal(await read(arn, 1), "second", "read again once maxAge has passed");
    assert.equal(await secretStringReader(client)(arn, 300), "second", "a new container reads the current value");
  });

  it("fails for a secret that has no value yet (what the function's dependency on the SecretVersion prevents)", async () => {
    const arn = await create("webhook-no-version", {});
    await assert.rejects(secretStringReader(client)(arn, 300), /can't find the specified secret value/);
  });

  it("does not keep a failed read: the next request reads again", async () => {
    const arn = await create("webhook-later", {});
    const read = secretStringReader(client);
    await assert.rejects(read(arn, 300));
    await client.send(new PutSecretValueCommand({ SecretId: arn, SecretString: "now-set" }));
    assert.equal(await read(arn, 300), "now-set");
  });

  it("refuses a secret stored as binary, naming it", async () => {
    const arn = await create("webhook-binary", { SecretBinary: new TextEncoder().encode("bytes") });
    await assert.rejects(secretStringReader(client)(arn, 300), (error: Error) => {
      assert.equal(error.message, `secret ${arn} has no string value`);
      return true;
    });
  });

  it("fails for a secret that does not exist", async () => {
    const missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:absent-AbCdEf";
    await assert.rejects(secretStringReader(client)(missing, 300));
  });
});
