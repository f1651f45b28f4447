/**
 * policy/evaluate: the arguments a policy receives, built as @pulumi/policy 1.21 builds them.
 */
import * as assert from "node:assert/strict";
import {
  NotApplicableError,
  resourceValidationArgs,
  stackValidationArgs,
  toEngineProperties,
  UNKNOWN,
  UnknownValueError,
} from "../../policy/evaluate";
import { ENGINE_UNKNOWN_SENTINELS } from "../../policy/lib/unknown";
import { res } from "./helpers";
import { QUEUE } from "./resource-types";

describe("policy/evaluate: resourceValidationArgs (mirrors @pulumi/policy 1.21)", () => {
  it("wraps props so reading an UNKNOWN throws the engine's UnknownValueError with its message", () => {
    const args = resourceValidationArgs(
      res(QUEUE, "q", { name: "jobs", redrivePolicy: UNKNOWN, nested: { list: [1, UNKNOWN] } }),
    );
    assert.equal(args.props.name, "jobs");
    assert.throws(
      () => args.props.redrivePolicy,
      (e: unknown) =>
        e instanceof UnknownValueError &&
        (e as Error).message === "string value at .redrivePolicy can't be known during preview",
    );
    assert.equal(args.props.nested.list[0], 1);
    assert.throws(
      () => args.props.nested.list[1],
      (e: unknown) =>
        e instanceof UnknownValueError && /value at \.nested\.list\.1 can't be known/.test((e as Error).message),
    );
    assert.ok(!("missing" in args.props));
    assert.equal(args.props.missing, undefined);
  });

  it("drops undefined properties like the engine's deserialisation", () => {
    assert.deepEqual(
      toEngineProperties({ a: undefined, b: null, c: [undefined, 1], d: { e: undefined, f: UNKNOWN } }),
      { b: null, c: [null, 1], d: { f: ENGINE_UNKNOWN_SENTINELS.string } },
    );
  });

  it("notApplicable() throws NotApplicableError carrying the reason", () => {
    const args = resourceValidationArgs(res(QUEUE, "q", {}));
    assert.throws(
      () => args.notApplicable("not for queues"),
      (e: unknown) =>
        e instanceof NotApplicableError && e.reason === "not for queues" && e.message === "not for queues",
    );
    assert.throws(
      () => args.notApplicable(),
      (e: unknown) =>
        e instanceof NotApplicableError && e.reason === undefined && e.message === "Policy does not apply",
    );
  });

  it("getConfig() returns schema defaults overlaid with the config, without enforcementLevel", () => {
    const schema = {
      properties: {
        list: { type: "array" as const, default: ["a"] },
        flag: { type: "boolean" as const, default: false },
        noDefault: { type: "string" as const },
      },
    };
    const args = resourceValidationArgs(res(QUEUE, "q", {}), { enforcementLevel: "advisory", flag: true }, {}, schema);
    assert.deepEqual(args.getConfig(), { list: ["a"], flag: true });
    assert.deepEqual(resourceValidationArgs(res(QUEUE, "q", {}), "disabled").getConfig(), {});
  });

  it("exposes frozen stackTags, type/urn/name, opts, provider, isType/asType", () => {
    const args = resourceValidationArgs(
      res(
        QUEUE,
        "q",
        { a: 1 },
        {
          parent: "urn:pulumi:dev::cirunners::pulumi:pulumi:Stack::cirunners-dev",
          provider:
            "urn:pulumi:dev::cirunners::pulumi:providers:aws::default_7_0_0::04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        },
      ),
      {},
      { env: "prod" },
    );
    assert.equal(args.stackTags.get("env"), "prod");
    assert.equal(args.stackTags.size, 1);
    assert.ok(Object.isFrozen(args.stackTags));
    assert.equal(args.type, QUEUE);
    assert.equal(args.name, "q");
    assert.equal(args.opts.parent, "urn:pulumi:dev::cirunners::pulumi:pulumi:Stack::cirunners-dev");
    assert.equal(args.opts.protect, false);
    assert.equal(args.provider?.type, "pulumi:providers:aws");
    assert.equal(args.provider?.name, "default_7_0_0");
    // biome-ignore lint/complexity/noStaticOnlyClass: stands in for a Pulumi resource class, which the SDK recognises by its static members
    class FakeQueue {
      static __pulumiType = QUEUE;
    }
    // biome-ignore lint/complexity/noStaticOnlyClass: stands in for a Pulumi resource class, which the SDK recognises by its static members
    class FakeTopic {
      static isInstance(o: { __pulumiType?: string }) {
        return o.__pulumiType === "aws:sns/topic:Topic";
      }
    }
    assert.equal(args.isType(FakeQueue as never), true);
    assert.equal(args.isType(FakeTopic as never), false);
    assert.equal((args.asType(FakeQueue as never) as { a: number }).a, 1);
    assert.equal(args.asType(FakeTopic as never), undefined);
  });

  it("stackValidationArgs links parents, dependencies and property dependencies", () => {
    const parent = res("my:component:Runners", "runners", {});
    const queue = res(QUEUE, "q", {}, { parent: parent.urn });
    const fn = res(
      "aws:lambda/function:Function",
      "f",
      { environment: UNKNOWN },
      {
        parent: parent.urn,
        dependencies: [queue.urn, "urn:missing"],
        propertyDependencies: { environment: [queue.urn] },
      },
    );
    const args = stackValidationArgs([parent, queue, fn], {}, { env: "dev" });
    const [, q, f] = args.resources;
    assert.equal(q.parent, args.resources[0]);
    assert.deepEqual(f.dependencies, [q]);
    assert.deepEqual(f.propertyDependencies.environment, [q]);
    assert.throws(() => f.props.environment, UnknownValueError);
    assert.equal(args.stackTags.get("env"), "dev");
    assert.throws(() => args.notApplicable("x"), NotApplicableError);
  });
});
