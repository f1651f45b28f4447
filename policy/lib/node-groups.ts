// Which launch templates of the stack are EKS managed node group templates.
//
// EKS rejects a node group whose launch template sets SubnetId, IamInstanceProfile, RequestSpotInstances,
// HibernationOptions or TerminateInstances ("the node group deployment or update will fail", EKS API reference,
// LaunchTemplateSpecification): the node group's autoscaling group owns its nodes' lifecycle. Policies that would
// demand one of those settings (terminate on shutdown) do not apply to such a template.
//
// The relation is read from the stack, never from the template itself (a tag or a name would let any author
// exempt a runner template): a template is a node group template when an aws:eks/nodeGroup:NodeGroup launches its
// nodes from it, which the engine records as the node group's `launchTemplate` property depending on the template
// (`propertyDependencies.launchTemplate`, the URNs the property's value was computed from), or, where the values
// are known, when `launchTemplate.id` / `launchTemplate.name` equal the template's `id` / `name`. A plain
// `dependsOn` (`dependencies`) is not "launching from" and does not count.
import type { StackResource } from "./kit";
import { T } from "./types";
import { isRecord, isUnknown } from "./unknown";

const known = (value: unknown): value is string => typeof value === "string" && value !== "" && !isUnknown(value);

/**
 * URNs of the launch templates that the stack's EKS managed node groups launch their nodes from.
 *
 * A node group's `launchTemplate` property that depends on several launch templates (a value computed from more
 * than one) names none of them for certain: only a known id or name then decides, so a runner template cannot be
 * exempted by mixing its outputs into a node group's reference.
 */
export function nodeGroupLaunchTemplates(resources: readonly StackResource[]): Set<string> {
  const templates = resources.filter((r) => r.type === T.launchTemplate);
  const result = new Set<string>();
  if (templates.length === 0) return result;
  const templateUrns = new Set(templates.map((t) => t.urn));
  const byId = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const t of templates) {
    if (known(t.props.id)) byId.set(t.props.id, t.urn);
    if (known(t.props.name)) byName.set(t.props.name, t.urn);
  }
  for (const group of resources) {
    if (group.type !== T.eksNodeGroup) continue;
    const ref = group.props.launchTemplate;
    if (ref === undefined || ref === null) continue;
    if (isRecord(ref)) {
      const byValue =
        (known(ref.id) ? byId.get(ref.id) : undefined) ?? (known(ref.name) ? byName.get(ref.name) : undefined);
      if (byValue) result.add(byValue);
    }
    const deps = new Set((group.propertyDependencies.launchTemplate ?? []).filter((u) => templateUrns.has(u)));
    if (deps.size === 1) result.add([...deps][0]);
  }
  return result;
}
