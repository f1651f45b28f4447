import * as assert from "node:assert/strict";
import { isAllow, mayBeAllow, parsePolicyDocument, statementLabel, toValueList } from "../../policy/lib/iam-document";
import { ENGINE_UNKNOWN_SENTINELS, isUnknown, UNKNOWN, unwrapProxy, boolish } from "../../policy/lib/unknown";

describe("policy/lib/iam-document: parsePolicyDocument", () => {
  it("parses a JSON string with an array of statements and array values", () => {
    const d = parsePolicyDocument(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "Read",
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:ListBucket"],
            Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
          },
          { Effect: "Deny", NotAction: "iam:*", NotResource: "arn:aws:iam::*:role/x" },
        ],
      }),
    );
    assert.equal(d.unknown, false);
    assert.equal(d.invalid, undefined);
    assert.equal(d.statements.length, 2);
    const [a, b] = d.statements;
    assert.equal(a.sid, "Read");
    assert.equal(a.label, 'Statement[0] (Sid "Read")');
    assert.deepEqual(a.action, { values: ["s3:GetObject", "s3:ListBucket"], unknown: false });
    assert.deepEqual(a.resource?.values, ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]);
    assert.ok(isAllow(a));
    assert.equal(b.label, "Statement[1]");
    assert.equal(b.effect, "Deny");
    assert.deepEqual(b.notAction?.values, ["iam:*"]);
    assert.deepEqual(b.notResource?.values, ["arn:aws:iam::*:role/x"]);
    assert.equal(b.action, undefined);
    assert.ok(!isAllow(b));
  });

  it("accepts an object document with a single Statement object and scalar values", () => {
    const d = parsePolicyDocument({
      Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:eu-west-1:123456789012:q" },
    });
    assert.equal(d.statements.length, 1);
    assert.deepEqual(d.statements[0].action?.values, ["sqs:SendMessage"]);
    assert.deepEqual(d.statements[0].resource?.values, ["arn:aws:sqs:eu-west-1:123456789012:q"]);
    assert.equal(d.statements[0].index, 0);
  });

  it("reads element names case-insensitively", () => {
    const d = parsePolicyDocument({ statement: [{ effect: "Allow", action: "s3:*", resource: "*" }] });
    assert.deepEqual(d.statements[0].action?.values, ["s3:*"]);
    assert.ok(isAllow(d.statements[0]));
  });

  it("marks a wholly unknown document (UNKNOWN or an engine sentinel) and nothing else", () => {
    for (const u of [UNKNOWN, ENGINE_UNKNOWN_SENTINELS.string, ENGINE_UNKNOWN_SENTINELS.object]) {
      const d = parsePolicyDocument(u);
      assert.equal(d.unknown, true);
      assert.deepEqual(d.statements, []);
    }
  });

  it("keeps known statements when one statement is unknown", () => {
    const d = parsePolicyDocument({ Statement: [UNKNOWN, { Effect: "Allow", Action: "*", Resource: "*" }] });
    assert.equal(d.statements.length, 2);
    assert.equal(d.statements[0].unknown, true);
    assert.ok(mayBeAllow(d.statements[0]));
    assert.ok(!isAllow(d.statements[0]));
    assert.deepEqual(d.statements[1].action?.values, ["*"]);
    assert.equal(d.statements[1].index, 1);
  });

  it("marks unknown list entries and an unknown Statement element", () => {
    const d = parsePolicyDocument({
      Statement: [{ Effect: "Allow", Action: ["ec2:RunInstances", UNKNOWN], Resource: [UNKNOWN, "*"] }],
    });
    assert.deepEqual(d.statements[0].action, { values: ["ec2:RunInstances"], unknown: true });
    assert.deepEqual(d.statements[0].resource, { values: ["*"], unknown: true });
    const s = parsePolicyDocument({ Version: "2012-10-17", Statement: UNKNOWN });
    assert.equal(s.statementsUnknown, true);
    assert.equal(s.unknown, false);
  });

  it("marks an unknown Effect", () => {
    const d = parsePolicyDocument({
      Statement: [{ Effect: ENGINE_UNKNOWN_SENTINELS.string, Action: "*", Resource: "*" }],
    });
    assert.equal(d.statements[0].effectUnknown, true);
    assert.ok(!isAllow(d.statements[0]));
    assert.ok(mayBeAllow(d.statements[0]));
  });

  it("normalises principals: *, typed maps with scalar/array values, unknown", () => {
    const d = parsePolicyDocument({
      Statement: [
        { Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" },
        {
          Effect: "Allow",
          Principal: { AWS: ["arn:aws:iam::123456789012:root", UNKNOWN], service: "ec2.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
        { Effect: "Allow", Principal: UNKNOWN, Action: "sts:AssumeRole" },
        { Effect: "Allow", NotPrincipal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" },
      ],
    });
    assert.equal(d.statements[0].principal?.star, true);
    assert.deepEqual(d.statements[1].principal?.entries.get("AWS"), {
      values: ["arn:aws:iam::123456789012:root"],
      unknown: true,
    });
    assert.deepEqual(d.statements[1].principal?.entries.get("Service")?.values, ["ec2.amazonaws.com"]);
    assert.equal(d.statements[2].principal?.unknown, true);
    assert.deepEqual(d.statements[3].notPrincipal?.entries.get("AWS")?.values, ["arn:aws:iam::123456789012:root"]);
  });

  it("normalises conditions: one entry per operator/key, scalar or array values, unknown parts", () => {
    const d = parsePolicyDocument({
      Statement: [
        {
          Effect: "Allow",
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
            StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/app:ref:refs/heads/main", UNKNOWN] },
            ForAnyValue: UNKNOWN,
          },
        },
      ],
    });
    const s = d.statements[0];
    assert.deepEqual(s.conditions, [
      {
        operator: "StringEquals",
        key: "token.actions.githubusercontent.com:aud",
        values: ["sts.amazonaws.com"],
        unknown: false,
      },
      {
        operator: "StringLike",
        key: "token.actions.githubusercontent.com:sub",
        values: ["repo:acme/app:ref:refs/heads/main"],
        unknown: true,
      },
    ]);
    assert.equal(s.conditionUnknown, true);
    assert.equal(
      parsePolicyDocument({ Statement: [{ Effect: "Allow", Condition: UNKNOWN }] }).statements[0].conditionUnknown,
      true,
    );
  });

  it("reports invalid documents instead of throwing", () => {
    assert.match(parsePolicyDocument("{not json").invalid ?? "", /not valid JSON/);
    assert.match(parsePolicyDocument("").invalid ?? "", /empty/);
    assert.match(parsePolicyDocument("[1,2]").invalid ?? "", /not a JSON object/);
    assert.match(parsePolicyDocument({ Version: "2012-10-17" }).invalid ?? "", /no Statement/);
    assert.equal(parsePolicyDocument({ Statement: [42] }).statements[0].unknown, false);
  });

  it("toValueList and statementLabel", () => {
    assert.deepEqual(toValueList("a"), { values: ["a"], unknown: false });
    assert.deepEqual(toValueList(["a", UNKNOWN, 3]), { values: ["a", "3"], unknown: true });
    assert.deepEqual(toValueList(UNKNOWN), { values: [], unknown: true });
    assert.deepEqual(toValueList({}), { values: [], unknown: false });
    assert.equal(statementLabel(2), "Statement[2]");
    assert.equal(statementLabel(0, "X"), 'Statement[0] (Sid "X")');
  });
});

describe("policy/lib/unknown", () => {
  it("recognises every engine sentinel and UNKNOWN, nothing else", () => {
    assert.equal(ENGINE_UNKNOWN_SENTINELS.string, require("@pulumi/pulumi/runtime/rpc").unknownValue);
    for (const s of Object.values(ENGINE_UNKNOWN_SENTINELS)) assert.ok(isUnknown(s));
    assert.ok(isUnknown(UNKNOWN));
    for (const v of ["", "*", undefined, null, 0, {}, []]) assert.ok(!isUnknown(v));
  });

  it("unwrapProxy returns the raw target of the engine proxy and leaves plain values alone", async () => {
    const { resourceValidationArgs } = await import("../../policy/evaluate");
    const args = resourceValidationArgs({ type: "t", name: "n", urn: "u", props: { a: UNKNOWN, b: { c: 1 } } });
    assert.throws(() => args.props.a);
    const raw = unwrapProxy(args.props) as Record<string, unknown>;
    assert.equal(raw.a, ENGINE_UNKNOWN_SENTINELS.string);
    assert.deepEqual(raw.b, { c: 1 });
    const plain = { x: 1 };
    assert.equal(unwrapProxy(plain), plain);
  });

  it("boolish handles booleans, string booleans (launch templates), unknown and absent", () => {
    assert.equal(boolish(true, false), true);
    assert.equal(boolish("true", false), true);
    assert.equal(boolish("TRUE", false), true);
    assert.equal(boolish("false", true), false);
    assert.equal(boolish(false, true), false);
    assert.equal(boolish(undefined, "unknown"), "unknown");
    assert.equal(boolish(undefined, false), false);
    assert.equal(boolish(UNKNOWN, false), "unknown");
  });
});
