/**
 * Stands in for `@smithy/core/event-streams` in the bundles of functions whose clients have no event-stream
 * operation (esbuild `alias`, `BUNDLE_OPTIONS` in program/shared/lambda.ts; docs/webhook.md, "Bundle").
 *
 * Every client's protocol (`HttpProtocol.loadEventStreamCapability`) imports the event-stream codec with a dynamic
 * `import()`, and only calls it for an operation whose input or output has an event-stream member (S3
 * `SelectObjectContent`, CloudWatch Logs `StartLiveTail`, ...). Bundled into one file, that `import()` still brings
 * the whole codec (about 19 KB, 5.9 KB gzip, of the webhook) into every function, though the operations these
 * functions call (SQS `SendMessage`, SSM `GetParameter`, DynamoDB item writes, EC2 `CreateFleet`, ...) have none.
 * A client that has event-stream operations imports the module statically (`resolveEventStreamSerdeConfig` in its
 * client constructor); `bundleFunction` finds those bundles in esbuild's metafile and builds them with the real
 * module.
 *
 * So nothing here runs in a deployed function; if it ever did, it fails loudly instead of sending a request the
 * SDK cannot read the answer of.
 */

const MESSAGE =
  "this function's bundle has no AWS SDK event-stream support (@smithy/core/event-streams is stubbed by " +
  "BUNDLE_OPTIONS in program/shared/lambda.ts): an event-stream operation needs the real module";

/** Called by the protocol before an event-stream operation's request or response: never in these bundles. */
export function eventStreamSerdeProvider(): never {
  throw new Error(MESSAGE);
}

/** Built by the protocol for an event-stream operation: never in these bundles. */
export class EventStreamSerde {
  constructor() {
    throw new Error(MESSAGE);
  }
}

/** A client with event-stream operations calls this when it is created; `bundleFunction` gives it the real module. */
export function resolveEventStreamSerdeConfig(): never {
  throw new Error(MESSAGE);
}
