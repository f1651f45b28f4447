/**
 * Simulated runner instances. An instance "boots" when the launcher writes the JIT parameter its user data names
 * (seen at the counting proxy) and then does what the rendered bootstrap tells it (bootstrap-contract.ts): read the
 * parameter and delete it, with its own credentials; fetch the runner from the cache bucket and check the
 * manifest's checksum; start the runner with the JIT config: the stand-in marks it online and GitHub's assignment
 * (testkit/github/jobs.ts) gives it a queued job that fits, whichever job it was launched for, or none (it idles).
 * When the runner is gone (its job ended, or it was deregistered) the instance powers off (the launch template's
 * shutdown behaviour `terminate`). Any failure powers off at once, as the bootstrap's EXIT trap does. An instance
 * terminated from outside (the reaper, the reconciler) takes its runner process with it: GitHub sees it offline.
 */
import { createHash } from "node:crypto";
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DeleteParameterCommand, GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { TAG } from "../contract/names";
import type { GitHubApi } from "../testkit/github/server";
import type { BootstrapContract } from "./bootstrap-contract";

export interface InstanceRecord {
  instanceId: string;
  jobId?: number;
  pool?: string;
  runnerName?: string;
  /** The stand-in's id of its runner, once it started. */
  runnerId?: number;
  /** The job its runner ran (GitHub's assignment: not necessarily `jobId`). */
  ranJob?: number;
  /** Terminated from outside while its runner was running a job (never expected: the reaper must spare it). */
  killedBusy?: boolean;
  /** What happened to it, in order. */
  states: string[];
  launchedAt: number;
  finishedAt?: number;
}

export interface InstanceSimulatorOptions {
  /** The instances' own clients (the instance role). */
  instance: { ec2: EC2Client; ssm: SSMClient; s3: S3Client };
  /** The harness's EC2 client: how the simulation sees an instance it did not start itself. */
  describe: EC2Client;
  github: GitHubApi;
  /** Pool name → what its launch template's user data tells its instances. */
  bootstrapOf: (pool: string) => BootstrapContract | undefined;
  log(line: string): void;
}

/** Its instance was terminated by a function: nothing more to do (not a bootstrap failure). */
class ExternallyTerminated extends Error {}

function tag(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

export class InstanceSimulator {
  readonly records = new Map<string, InstanceRecord>();
  private readonly hung = new Set<number>();
  /** Instances counted in `booting` (until their runner is online). */
  private readonly counted = new Set<string>();
  private readonly waiting: string[] = [];
  private paused = false;
  private booting = 0;

  constructor(private readonly options: InstanceSimulatorOptions) {}

  /** Instances booting: between their JIT parameter and their runner online (hung ones aside). */
  inFlight(): number {
    return this.booting;
  }

  /** Jobs of these ids get an instance that never boots: its runner never comes online (for the reaper). */
  hang(jobIds: number[]): void {
    for (const id of jobIds) this.hung.add(id);
  }

  /** While paused, launched instances wait before booting (their JIT parameters stay in place). */
  pause(): void {
    this.paused = true;
  }

  /**
   * Ends the pause. With `jobIds`, only the held instances launched for those jobs boot now; the others stay held
   * until a later `resume()` (scenarios order boots this way, e.g. the runner of a later job online first).
   */
  async resume(jobIds?: number[]): Promise<void> {
    this.paused = false;
    const held = this.waiting.splice(0);
    for (const name of held) {
      const instanceId = name.slice(name.lastIndexOf("/") + 1);
      const instance = jobIds ? await this.describe(instanceId) : undefined;
      if (!jobIds || (instance && jobIds.includes(Number(tag(instance, TAG.jobId))))) void this.boot(name);
      else this.waiting.push(name);
    }
  }

  /**
   * Instances terminated by someone else (TerminateInstances by a function, seen at the proxy): a runner process
   * dies with its instance, so GitHub sees the runner offline (and a job it was running loses its runner).
   */
  terminated(instanceIds: string[]): void {
    for (const id of instanceIds) {
      const record = this.records.get(id);
      if (!record || record.finishedAt !== undefined || record.runnerId === undefined) continue;
      const runner = this.options.github.runners.get(record.runnerId);
      if (!runner) continue;
      if (runner.busy) {
        record.killedBusy = true;
        record.states.push("terminated while its runner was running a job");
      }
      this.options.github.setRunnerStatus(record.runnerId, { status: "offline" });
      this.gone.get(id)?.();
    }
  }

  private readonly gone = new Map<string, () => void>();

  /** The launcher wrote a parameter: if it is an instance's JIT config, that instance boots. */
  parameterWritten(name: string): void {
    if (this.paused) this.waiting.push(name);
    else void this.boot(name);
  }

  private async describe(instanceId: string): Promise<Instance | undefined> {
    const out = await this.options.describe.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.[0]?.Instances?.[0];
  }

  private async boot(parameterName: string): Promise<void> {
    const instanceId = parameterName.slice(parameterName.lastIndexOf("/") + 1);
    if (!instanceId.startsWith("i-")) return;
    this.booting += 1;
    this.counted.add(instanceId);
    const { log } = this.options;
    try {
      const instance = await this.describe(instanceId);
      const pool = instance && tag(instance, TAG.pool);
      const bootstrap = pool === undefined ? undefined : this.options.bootstrapOf(pool);
      if (!instance || !bootstrap || bootstrap.parameterName(instanceId) !== parameterName) return;
      const record: InstanceRecord = {
        instanceId,
        jobId: Number(tag(instance, TAG.jobId)) || undefined,
        pool,
        runnerName: tag(instance, TAG.runnerName),
        states: [instance.State?.Name ?? "unknown"],
        launchedAt: instance.LaunchTime ? new Date(instance.LaunchTime).getTime() : Date.now(),
      };
      this.records.set(instanceId, record);
      if (instance.State?.Name !== "running") return;
      if (record.jobId !== undefined && this.hung.has(record.jobId)) {
        record.states.push("hung: never boots, its runner never comes online");
        log(`  ${instanceId} (job ${record.jobId}) hangs while booting: its runner stays offline`);
        return;
      }
      try {
        await this.run(instanceId, bootstrap, record);
      } catch (error) {
        if (error instanceof ExternallyTerminated) return;
        record.states.push(`bootstrap failed: ${(error as Error).message}`);
        log(`  ! instance ${instanceId}: ${(error as Error).message}`);
      }
      await this.options.instance.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      record.states.push("powered off (terminated)");
      record.finishedAt = Date.now();
    } catch (error) {
      log(`  ! instance ${instanceId}: ${(error as Error).message}`);
    } finally {
      if (this.counted.delete(instanceId)) this.booting -= 1;
    }
  }

  private async run(instanceId: string, bootstrap: BootstrapContract, record: InstanceRecord): Promise<void> {
    const { instance, github, log } = this.options;
    const name = bootstrap.parameterName(instanceId);
    const parameter = await instance.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    await instance.ssm.send(new DeleteParameterCommand({ Name: name }));
    record.states.push("read and deleted its JIT config");

    const { bucket, tarballKey, manifestKey } = bootstrap.cache;
    const read = async (key: string) =>
      Buffer.from(
        await (await instance.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
      );
    const manifest = JSON.parse((await read(manifestKey)).toString("utf8")) as { version?: string; sha256?: string };
    const tarball = await read(tarballKey);
    if (createHash("sha256").update(tarball).digest("hex") !== manifest.sha256)
      throw new Error(`s3://${bucket}/${tarballKey} does not match the manifest's sha256`);
    record.states.push(`runner ${manifest.version} from the cache, sha256 verified`);

    // The runner starts with the JIT config, registers under the id GitHub put in it, and takes its job.
    const jit = JSON.parse(Buffer.from(parameter.Parameter?.Value ?? "", "base64").toString("utf8")) as { id?: number };
    if (jit.id === undefined || !github.runners.has(jit.id))
      throw new Error("its JIT config names no runner the stand-in knows");
    record.runnerId = jit.id;
    record.states.push("runner online");
    const logs = bootstrap.logStream(instanceId);
    log(
      `  ${instanceId} (${record.pool}, job ${record.jobId}): JIT config read and deleted, runner ${record.runnerName} online (logs: ${logs.group}/${logs.stream})`,
    );
    // From here the instance only waits: for its runner to go (job done, or deregistered) or to be terminated.
    this.booting -= 1;
    this.counted.delete(instanceId);
    const terminated = new Promise<"terminated">((resolve) => this.gone.set(instanceId, () => resolve("terminated")));
    github.setRunnerStatus(jit.id, { status: "online" });
    const ended = await Promise.race([github.whenRunnerRemoved(jit.id).then(() => "removed" as const), terminated]);
    this.gone.delete(instanceId);
    const ran = github.runnerHistory.get(jit.id)?.jobId;
    record.ranJob = ran;
    if (ended === "terminated") {
      record.states.push("terminated from outside");
      record.finishedAt = Date.now();
      throw new ExternallyTerminated();
    }
    record.states.push(ran === undefined ? "runner deregistered while idle" : `ran job ${ran}, runner removed`);
    log(`  ${instanceId} (launched for job ${record.jobId}): ${record.states.at(-1)}, instance powers off`);
  }
}
