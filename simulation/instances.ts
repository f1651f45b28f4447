/**
 * Simulated runner instances. An instance "boots" when the launcher writes the JIT parameter its user data names
 * (seen at the counting proxy) and then does what the rendered bootstrap tells it (bootstrap-contract.ts): read the
 * parameter and delete it, with its own credentials; fetch the runner from the cache bucket and check the
 * manifest's checksum; start the runner with the JIT config, whose runner the stand-in then marks online and busy.
 * The job runs for `jobMilliseconds`, the ephemeral runner removes itself and the instance powers off (the launch
 * template's shutdown behaviour `terminate`). Any failure powers off at once, as the bootstrap's EXIT trap does.
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
import { sleep } from "./callers";

export interface InstanceRecord {
  instanceId: string;
  jobId?: number;
  pool?: string;
  runnerName?: string;
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
  jobMilliseconds: number;
  log(line: string): void;
}

function tag(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

export class InstanceSimulator {
  readonly records = new Map<string, InstanceRecord>();
  private readonly hung = new Set<number>();
  private readonly waiting: string[] = [];
  private paused = false;
  private booting = 0;

  constructor(private readonly options: InstanceSimulatorOptions) {}

  /** Instances between their boot and their power-off (hung ones aside). */
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

  resume(): void {
    this.paused = false;
    for (const name of this.waiting.splice(0)) void this.boot(name);
  }

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
        record.states.push(`bootstrap failed: ${(error as Error).message}`);
        log(`  ! instance ${instanceId}: ${(error as Error).message}`);
      }
      await this.options.instance.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
      record.states.push("powered off (terminated)");
      record.finishedAt = Date.now();
    } catch (error) {
      log(`  ! instance ${instanceId}: ${(error as Error).message}`);
    } finally {
      this.booting -= 1;
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
    github.setRunnerStatus(jit.id, { status: "online" });
    github.setRunnerStatus(jit.id, { busy: true });
    record.states.push("runner online, busy");
    const logs = bootstrap.logStream(instanceId);
    log(
      `  ${instanceId} (${record.pool}, job ${record.jobId}): JIT config read and deleted, runner ${record.runnerName} online, running the job (logs: ${logs.group}/${logs.stream})`,
    );
    await sleep(this.options.jobMilliseconds);
    // The job is done: the ephemeral runner removes itself; the bootstrap powers off.
    github.runners.delete(jit.id);
    record.states.push("job completed, runner removed");
    log(`  ${instanceId} (job ${record.jobId}): job completed, runner removed, instance powered off`);
  }
}
