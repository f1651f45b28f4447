/**
 * Converts Pulumi's wire form of resource properties (what the engine receives) into plain values for display
 * and policy evaluation: secrets, assets/archives, resource references and unknowns are recognised by the
 * signature keys Pulumi's RPC layer uses.
 */
import { createHash } from "node:crypto";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** The engine's sentinel for a value not known until the resource is created. */
export const UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

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
  if (value === UNKNOWN_WIRE) return options.unknown;
  if (Array.isArray(value)) return value.map((v) => fromWire(v, options));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  switch (record[SIG_KEY]) {
    case SECRET_SIG:
      return options.secrets === "mask" ? "[secret]" : fromWire(record.value, options);
    case ASSET_SIG:
      return describeAsset(record);
    case ARCHIVE_SIG: {
      const assets = (record.assets ?? {}) as Record<string, Record<string, unknown>>;
      return { archive: Object.fromEntries(Object.entries(assets).map(([k, a]) => [k, describeAsset(a)])) };
    }
    case RESOURCE_SIG:
      return record.id !== undefined && record.id !== "" ? fromWire(record.id, options) : record.urn;
    case OUTPUT_SIG:
      return "value" in record ? fromWire(record.value, options) : options.unknown;
    default:
      return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fromWire(v, options)]));
  }
}
