/**
 * Converts Pulumi's wire form of resource properties (what the engine receives) into plain values for display
 * and policy evaluation: secrets, assets/archives, resource references and unknowns are recognised by the
 * signature keys Pulumi's RPC layer uses.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

const {
  specialSigKey,
  specialSecretSig,
  specialAssetSig,
  specialArchiveSig,
  specialResourceSig,
  specialOutputValueSig,
  unknownValue,
} = pulumi.runtime;

export interface WireOptions {
  /** Replace secret values with "[secret]" (display) or keep their plaintext (policy evaluation). */
  secrets: "mask" | "reveal";
  /** What to put where a value is unknown. */
  unknown: unknown;
}

function describeAsset(asset: Record<string, unknown>): string {
  if (typeof asset.text === "string") {
    const digest = createHash("sha256").update(asset.text).digest("hex").slice(0, 12);
    return `<asset: ${Buffer.byteLength(asset.text)} bytes, sha256 ${digest}>`;
  }
  if (typeof asset.path === "string") return `<asset: file ${asset.path}>`;
  if (typeof asset.uri === "string") return `<asset: ${asset.uri}>`;
  return "<asset>";
}

export function fromWire(value: unknown, options: WireOptions): unknown {
  if (value === unknownValue) return options.unknown;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, options));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  switch (record[specialSigKey]) {
    case specialSecretSig:
      return options.secrets === "mask" ? "[secret]" : fromWire(record.value, options);
    case specialAssetSig:
      return describeAsset(record);
    case specialArchiveSig: {
      const assets = (record.assets ?? {}) as Record<string, Record<string, unknown>>;
      return { archive: Object.fromEntries(Object.entries(assets).map(([k, a]) => [k, describeAsset(a)])) };
    }
    case specialResourceSig:
      return record.id !== undefined && record.id !== "" ? fromWire(record.id, options) : record.urn;
    case specialOutputValueSig:
      return "value" in record ? fromWire(record.value, options) : options.unknown;
    default:
      return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fromWire(v, options)]));
  }
}
