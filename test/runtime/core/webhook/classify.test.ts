/** What the webhook makes of a delivery (runtime/core/webhook/classify.ts): its headers, its event and its workflow_job. */
import { strict as assert } from "node:assert";
import { classifyEvent, parseWorkflowJob } from "../../../../runtime/core/webhook/classify.js";
import type { Classification } from "../../../../runtime/core/webhook/outcome.js";
import { queuedJob, SERVED } from "../../support/webhook.js";

const DELIVERY = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
const headers = (event = "workflow_job", delivery = DELIVERY) => ({
  "x-github-event": event,
  "x-github-delivery": delivery,
});
const classify = (body: unknown, h: Record<string, string> = headers(), served = SERVED) =>
  classifyEvent(h, typeof body === "string" ? body : JSON.stringify(body), served);
const routedTo = (result: Classification) => (result.kind === "accept" ? result.delivery.pool : result.kind);

function rejection(result: Classification): [number, string, string] {
  assert.equal(result.kind, "reject", JSON.stringify(result));
  return result.kind === "reject" ? [result.status, result.reason, result.message] : [0, "", ""];
}

describe("webhook: classifyEvent", () => {
  it("accepts a queued job whose labels match a pool, with every field the launcher needs", () => {
    const result = classify(queuedJob(["self-hosted", "Linux", "x64", "LINUX"]));
    assert.deepEqual(result, {
      kind: "accept",
      status: 202,
      deliveryId: DELIVERY,
      delivery: {
        action: "queued",
        status: "queued",
        pool: "linux-x64",
        runnerName: undefined,
        job: {
          jobId: 29679449,
          runId: 10465521,
          runAttempt: 2,
          repository: "acme-platform/orders-service",
          owner: "acme-platform",
          installationId: 4242,
          labels: ["self-hosted", "Linux", "x64"],
        },
      },
    });
  });

  it("answers ping with pong", () => {
    assert.deepEqual(classify({ zen: "Design for failure.", hook_id: 1 }, headers("ping")), {
      kind: "pong",
      status: 200,
      deliveryId: DELIVERY,
    });
  });

  it("ignores other events with 200", () => {
    for (const event of ["push", "workflow_run", "check_run", "installation"]) {
      const result = classify({ action: "queued" }, headers(event));
      assert.deepEqual(result.kind === "ignore" && [result.status, result.reason], [200, "event-not-handled"], event);
    }
  });

  it("accepts every job action the ledger records, and ignores unknown ones with 200 without reading further", () => {
    for (const action of ["queued", "waiting", "in_progress", "completed"]) {
      const result = classify(queuedJob(["self-hosted", "linux", "x64"], { action }));
      assert.equal(result.kind === "accept" && result.delivery.action, action, action);
    }
    for (const action of ["requested", "something_new"]) {
      const result = classify({ action });
      assert.deepEqual(result.kind === "ignore" && [result.status, result.reason], [200, "action-not-handled"], action);
    }
  });

  it("routes by GitHub's rule: a subset of a pool's labels, case-insensitively, to the most specific pool", () => {
    assert.equal(routedTo(classify(queuedJob(["self-hosted", "linux", "x64"]))), "linux-x64");
    assert.equal(routedTo(classify(queuedJob(["Self-Hosted", "LINUX", "X64", "release"]))), "linux-x64-release");
    assert.equal(routedTo(classify(queuedJob(["release"]))), "linux-x64-release");
    assert.equal(routedTo(classify(queuedJob(["arm64"]))), "linux-arm64");
    // linux-x64 and linux-arm64 both add one label: the tie goes to the first in config order.
    assert.equal(routedTo(classify(queuedJob(["self-hosted", "linux"]))), "linux-x64");
    assert.equal(routedTo(classify(queuedJob(["self-hosted"]))), "linux-x64");
  });

  it("ignores queued jobs no pool serves (superset, GitHub-hosted, none) with 200, logging the labels", () => {
    for (const labels of [["ubuntu-latest"], ["self-hosted", "linux", "x64", "gpu"], ["x64", "arm64"], []]) {
      const result = classify(queuedJob(labels));
      assert.equal(result.kind, "ignore", JSON.stringify(labels));
      if (result.kind !== "ignore") continue;
      assert.equal(result.status, 200);
      assert.equal(result.reason, "no-matching-pool");
      assert.deepEqual(result.details?.labels, labels);
      assert.equal(result.details?.jobId, 29679449);
    }
  });

  it("records a job no pool serves once it runs on a runner this stack launched (it took that runner)", () => {
    const onOurs = { runner_name: "linux-x64-31-0a1b2c" };
    for (const action of ["in_progress", "completed"]) {
      const job = queuedJob(["ubuntu-latest"], { action });
      (job.workflow_job as Record<string, unknown>).runner_name = onOurs.runner_name;
      const result = classify(job);
      assert.equal(result.kind, "accept", action);
      assert.equal(result.kind === "accept" && result.delivery.pool, undefined);
      assert.equal(result.kind === "accept" && result.delivery.runnerName, onOurs.runner_name);
    }
    const elsewhere = queuedJob(["ubuntu-latest"], { action: "in_progress" });
    (elsewhere.workflow_job as Record<string, unknown>).runner_name = "GitHub Actions 12";
    assert.equal(classify(elsewhere).kind, "ignore");
  });

  it("answers 200 without recording for another owner's repository, whatever its labels", () => {
    const job = queuedJob(["self-hosted", "linux", "x64"], {
      repository: { full_name: "intruder/app", name: "app", owner: { login: "intruder" } },
    });
    const result = classify(job);
    assert.deepEqual(result.kind === "ignore" && [result.status, result.reason], [200, "other-owner"]);
    // Logins are case-insensitive.
    assert.equal(classify(queuedJob(["self-hosted"]), headers(), { ...SERVED, owner: "ACME-Platform" }).kind, "accept");
  });

  it("in repo scope, answers 200 without recording for a repository the stack does not serve", () => {
    const repoScope = { ...SERVED, scope: "repo" as const, repositories: ["billing"] };
    const result = classify(queuedJob(["self-hosted"]), headers(), repoScope);
    assert.deepEqual(result.kind === "ignore" && [result.status, result.reason], [200, "repository-not-configured"]);
    const served = { ...repoScope, repositories: ["billing", "Orders-Service"] };
    assert.equal(classify(queuedJob(["self-hosted"]), headers(), served).kind, "accept");
    // Organization scope serves every repository of the owner.
    assert.equal(
      classify(queuedJob(["self-hosted"]), headers(), { ...SERVED, repositories: ["billing"] }).kind,
      "accept",
    );
  });

  it("answers 200 (no pool) when the stack has no pool for the labels at all", () => {
    const result = classify(queuedJob(["self-hosted"]), headers(), { ...SERVED, pools: [] });
    assert.deepEqual(result.kind === "ignore" && [result.status, result.reason], [200, "no-matching-pool"]);
  });

  it("does not require fields of jobs it ignores (e.g. installation on a GitHub-hosted job)", () => {
    const result = classify(queuedJob(["ubuntu-latest"], { installation: undefined }));
    assert.equal(result.kind, "ignore");
  });

  it("refuses missing event or delivery headers with 400 naming the header", () => {
    assert.deepEqual(rejection(classify(queuedJob([]), { "x-github-delivery": DELIVERY })), [
      400,
      "header-missing",
      "missing header X-GitHub-Event",
    ]);
    assert.deepEqual(rejection(classify(queuedJob([]), { "x-github-event": "workflow_job" })), [
      400,
      "header-missing",
      "missing header X-GitHub-Delivery",
    ]);
  });

  it("refuses a delivery id SQS cannot deduplicate by", () => {
    for (const delivery of ["has space", "x".repeat(129), "tab\there", "ünïcode"]) {
      assert.equal(
        rejection(classify(queuedJob([]), headers("workflow_job", delivery)))[1],
        "header-invalid",
        delivery,
      );
    }
    assert.equal(
      classify(queuedJob(["self-hosted", "linux", "x64"]), headers("workflow_job", "x".repeat(128))).kind,
      "accept",
    );
  });

  it("refuses malformed JSON with 400, for every event", () => {
    for (const event of ["workflow_job", "ping", "push"]) {
      const [status, reason, message] = rejection(classify('{"action": "queued",', headers(event)));
      assert.deepEqual([status, reason], [400, "json-malformed"]);
      assert.match(message, /^body is not valid JSON: /);
    }
    assert.match(rejection(classify("payload=%7B%7D"))[2], /content type must be application\/json/);
  });

  it("refuses JSON that is not an object", () => {
    for (const body of ["[]", "null", "42", '"queued"', "true"]) {
      assert.deepEqual(rejection(classify(body)).slice(0, 2), [400, "json-malformed"], body);
    }
  });
});

describe("webhook: parseWorkflowJob", () => {
  const parse = (payload: Record<string, unknown>) => parseWorkflowJob(payload, SERVED);
  const withJob = (job: Record<string, unknown>) =>
    queuedJob(["self-hosted", "linux", "x64"], {
      workflow_job: { id: 1, run_id: 2, run_attempt: 1, labels: ["self-hosted", "linux", "x64"], ...job },
    });
  const messageOf = (result: ReturnType<typeof parse>) =>
    result.kind === "reject" ? `${result.status} ${result.reason}: ${result.message}` : result.kind;

  it("refuses a missing or non-string action", () => {
    assert.equal(messageOf(parse({})), "400 field-missing: missing field action");
    assert.equal(messageOf(parse({ action: 3 })), "400 field-invalid: field action must be a string");
  });

  it("names the missing field of a queued job, the repository's owner and name first", () => {
    const repository = queuedJob([]).repository;
    const cases: [Record<string, unknown>, string][] = [
      [{ action: "queued" }, "missing field repository.owner.login"],
      [{ action: "queued", repository, workflow_job: "x" }, "missing field workflow_job.labels"],
      [withJob({ id: undefined }), "missing field workflow_job.id"],
      [withJob({ run_id: null }), "missing field workflow_job.run_id"],
      [withJob({ run_attempt: undefined }), "missing field workflow_job.run_attempt"],
      [{ ...withJob({}), repository: undefined }, "missing field repository.owner.login"],
      [{ ...withJob({}), repository: { owner: { login: "acme-platform" } } }, "missing field repository.full_name"],
      [{ ...withJob({}), repository: { full_name: "a/b" } }, "missing field repository.owner.login"],
    ];
    for (const [payload, message] of cases) {
      const result = parse(payload);
      assert.equal(
        result.kind === "reject" && `${result.status} ${result.reason}: ${result.message}`,
        `400 field-missing: ${message}`,
        message,
      );
    }
  });

  it("names fields of the wrong type", () => {
    const cases: [Record<string, unknown>, string][] = [
      [withJob({ labels: "self-hosted" }), "field workflow_job.labels must be an array of strings"],
      [withJob({ labels: ["self-hosted", 3] }), "field workflow_job.labels must be an array of strings"],
      [withJob({ id: "1" }), "field workflow_job.id must be a positive integer"],
      [withJob({ id: 0 }), "field workflow_job.id must be a positive integer"],
      [withJob({ run_id: 1.5 }), "field workflow_job.run_id must be a positive integer"],
      [withJob({ run_attempt: 2 ** 53 }), "field workflow_job.run_attempt must be a positive integer"],
      [
        { ...withJob({}), repository: { full_name: "", owner: { login: "a" } } },
        "field repository.full_name must be a non-empty string",
      ],
      [
        { ...withJob({}), repository: { full_name: "a/b", owner: { login: 7 } } },
        "field repository.owner.login must be a non-empty string",
      ],
      [{ ...withJob({}), installation: { id: -1 } }, "field installation.id must be a positive integer"],
    ];
    for (const [payload, message] of cases) {
      const result = parse(payload);
      assert.equal(
        result.kind === "reject" && `${result.status} ${result.reason}: ${result.message}`,
        `400 field-invalid: ${message}`,
        message,
      );
    }
  });

  it("accepts queued jobs from organization and repository webhooks, which carry no installation", () => {
    for (const installation of [undefined, null, {}]) {
      const result = parse({ ...withJob({}), installation });
      assert.equal(result.kind, "accept", JSON.stringify(installation));
      assert.equal(result.kind === "accept" && result.delivery.job.installationId, undefined);
    }
    const fromApp = parse({ ...withJob({}), installation: { id: 77 } });
    assert.equal(fromApp.kind === "accept" && fromApp.delivery.job.installationId, 77);
  });

  it("does not read inherited properties as fields", () => {
    const payload = withJob({});
    const installation = Object.create({ id: 5 });
    assert.equal(messageOf(parse({ ...payload, installation })), "400 field-missing: missing field installation.id");
  });
});
