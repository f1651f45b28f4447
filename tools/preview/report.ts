/** Text rendering of an offline preview, in the shape of `pulumi preview`'s output. Pure functions. */
import type { PreviewResource, PreviewResult, PreviewViolation } from "./engine";

const STACK_TYPE = "pulumi:pulumi:Stack";

interface Node {
  resource: { type: string; name: string };
  children: Node[];
}

/** Builds the component → children tree; resources without a parent hang under the stack. */
export function buildTree(stackName: string, resources: PreviewResource[]): Node {
  const root: Node = { resource: { type: STACK_TYPE, name: stackName }, children: [] };
  const byUrn = new Map<string, Node>();
  for (const r of resources) byUrn.set(r.urn, { resource: r, children: [] });
  for (const r of resources) {
    const node = byUrn.get(r.urn)!;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    (parent ?? root).children.push(node);
  }
  return root;
}

export function renderTree(root: Node): string[] {
  const rows: Array<[string, string]> = [];
  const walk = (node: Node, prefix: string, isLast: boolean, depth: number) => {
    const branch = depth === 0 ? "" : `${prefix}${isLast ? "└─ " : "├─ "}`;
    rows.push([`${branch}${node.resource.type}`, node.resource.name]);
    const childPrefix = depth === 0 ? "" : `${prefix}${isLast ? "   " : "│  "}`;
    node.children.forEach((child, i) => {
      walk(child, childPrefix, i === node.children.length - 1, depth + 1);
    });
  };
  walk(root, "", true, 0);
  const width = Math.max(...rows.map(([t]) => [...t].length)) + 2;
  return [
    ` ${"    Type".padEnd(width + 4)}Name`,
    ...rows.map(([t, n]) => ` +   ${t}${" ".repeat(width - [...t].length)}${n}`),
  ];
}

/** Resources per type, most first (components included). */
export function countByType(resources: PreviewResource[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function hasMandatoryViolation(violations: PreviewViolation[]): boolean {
  return violations.some((v) => v.enforcementLevel === "mandatory");
}

export function renderReport(result: PreviewResult): string {
  const lines: string[] = [];
  lines.push(
    `Previewing update (${result.stack}) offline: the program ran under Pulumi mocks; nothing was deployed.`,
    "",
  );
  lines.push(...renderTree(buildTree(`${result.project}-${result.stack}`, result.resources)), "");
  lines.push("Resources by type:");
  for (const [type, count] of countByType(result.resources)) lines.push(`    ${String(count).padStart(4)}  ${type}`);
  lines.push("", `Resources:`, `    + ${result.resources.length + 1} to create (including the stack)`, "");
  const mandatory = result.violations.filter((v) => v.enforcementLevel === "mandatory");
  const advisory = result.violations.filter((v) => v.enforcementLevel !== "mandatory");
  lines.push(`Policies: ${mandatory.length} mandatory, ${advisory.length} advisory violation(s)`);
  for (const v of [...mandatory, ...advisory]) {
    lines.push(
      `    ${v.enforcementLevel === "mandatory" ? "❌" : "⚠️ "} ${v.policy} (${v.enforcementLevel})`,
      `       ${v.type} ${v.name}`,
      ...v.message.split("\n").map((m) => `       ${m}`),
    );
  }
  if (result.violations.length === 0) lines.push("    ✅ the program passes the policy pack");
  return lines.join("\n");
}
