/**
 * Every S3 call of the runner cache: the manifest beside each tarball, and the tarball itself.
 *
 * Streams a download into S3 as a multipart upload while hashing it, holding at most one part in memory.
 * The upload is completed only when the bytes match the expected SHA-256; otherwise it is aborted, so the
 * object at the key is either the previous good tarball or the new verified one, never a corrupt one.
 */
import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type Architecture, runnerCacheManifestKey } from "../../contract/names.js";
import { type CacheManifest, parseManifest } from "../core/runner-cache/release.js";

/** S3's smallest part (all but the last); 16 MiB keeps a 200 MB tarball at 13 parts and memory low. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const DEFAULT_PART_SIZE = 16 * 1024 * 1024;

export interface StreamUploadOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  /** Refuse (abort) the upload unless the bytes hash to this (lower-case hex). */
  expectedSha256?: string;
  partSize?: number;
  contentType?: string;
  metadata?: Record<string, string>;
}

export class ChecksumMismatchError extends Error {
  constructor(
    public readonly key: string,
    public readonly expected: string,
    public readonly actual: string,
  ) {
    super(`sha256 of ${key} is ${actual}, expected ${expected}: upload aborted`);
    this.name = "ChecksumMismatchError";
  }
}

export async function streamToS3(
  options: StreamUploadOptions,
): Promise<{ sha256: string; bytes: number; parts: number }> {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  if (partSize < MIN_PART_SIZE)
    throw new Error(`partSize must be at least ${MIN_PART_SIZE} bytes (S3's minimum), got ${partSize}`);
  const { s3, bucket, key } = options;
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: options.contentType,
      Metadata: options.metadata,
    }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error(`S3 returned no UploadId for s3://${bucket}/${key}`);

  const hash = createHash("sha256");
  const completed: CompletedPart[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let bytes = 0;

  const flush = async () => {
    const partNumber = completed.length + 1;
    const body = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const result = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body }),
    );
    completed.push({ PartNumber: partNumber, ETag: result.ETag });
  };

  try {
    for await (const chunk of options.body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= partSize) await flush();
    }
    if (bytes === 0) throw new Error(`the download for s3://${bucket}/${key} was empty`);
    if (pendingBytes > 0) await flush();
    const sha256 = hash.digest("hex");
    if (options.expectedSha256 && sha256 !== options.expectedSha256)
      throw new ChecksumMismatchError(key, options.expectedSha256, sha256);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
    );
    return { sha256, bytes, parts: completed.length };
  } catch (error) {
    // Leave no half-uploaded parts behind (they would be billed until a lifecycle rule removed them).
    await s3
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch(() => undefined);
    throw error;
  }
}

/** The stored manifest of an architecture; undefined when there is none (or it is unreadable). */
export async function readManifest(
  s3: S3Client,
  bucket: string,
  architecture: Architecture,
): Promise<CacheManifest | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: runnerCacheManifestKey(architecture) }));
    return parseManifest(await object.Body?.transformToString());
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "NoSuchKey" || name === "NotFound") return undefined;
    throw error;
  }
}

export async function writeManifest(
  s3: S3Client,
  bucket: string,
  architecture: Architecture,
  manifest: CacheManifest,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: runnerCacheManifestKey(architecture),
      Body: JSON.stringify(manifest),
      ContentType: "application/json",
    }),
  );
}
