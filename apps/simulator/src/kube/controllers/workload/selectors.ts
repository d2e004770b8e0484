/**
 * The matching rules a workload cluster applies everywhere: label selectors (Deployments,
 * ReplicaSets, DaemonSets, PodDisruptionBudgets), node selectors and node affinity, and taints
 * against tolerations. They follow the Kubernetes API reference for `LabelSelector`,
 * `NodeSelectorTerm` and `Toleration`.
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect | '';
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/**
 * An empty selector (`{}`) selects everything; an absent one selects nothing, which is how a
 * policy/v1 PodDisruptionBudget without a selector behaves.
 */
export function selectorMatches(selector: LabelSelector | null | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (have[key] !== value) return false;
  return (selector.matchExpressions ?? []).every((requirement) => requirementMatches(requirement, have));
}

function requirementMatches(requirement: LabelSelectorRequirement | NodeSelectorRequirement, have: Record<string, string>): boolean {
  const present = Object.prototype.hasOwnProperty.call(have, requirement.key);
  const value = have[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(value!);
    case 'NotIn':
      return !present || !values.includes(value!);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Gt':
    case 'Lt': {
      if (!present || values.length !== 1) return false;
      const [mine, theirs] = [Number.parseInt(value!, 10), Number.parseInt(values[0]!, 10)];
      if (Number.isNaN(mine) || Number.isNaN(theirs)) return false;
      return requirement.operator === 'Gt' ? mine > theirs : mine < theirs;
    }
    default:
      return false;
  }
}

/** `spec.nodeSelector` and required node affinity (terms are ORed, requirements in a term ANDed). */
export function nodeMatchesPod(
  node: { name: string; labels: Record<string, string> },
  nodeSelector: Record<string, string> | undefined,
  requiredTerms: NodeSelectorTerm[] | undefined,
): boolean {
  for (const [key, value] of Object.entries(nodeSelector ?? {})) if (node.labels[key] !== value) return false;
  if (!requiredTerms || requiredTerms.length === 0) return true;
  const fields = { 'metadata.name': node.name };
  return requiredTerms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const matchFields = term.matchFields ?? [];
    // A term with no requirements matches no node (the scheduler's rule, not an accident).
    if (expressions.length === 0 && matchFields.length === 0) return false;
    return expressions.every((r) => requirementMatches(r, node.labels)) && matchFields.every((r) => requirementMatches(r, fields));
  });
}

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // An empty key with operator Exists tolerates every taint.
  if (!toleration.key) return toleration.operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/** The first taint with one of `effects` that no toleration tolerates. */
export function untoleratedTaint(taints: Taint[] | undefined, tolerations: Toleration[] | undefined, effects: TaintEffect[]): Taint | undefined {
  return (taints ?? []).find((taint) => effects.includes(taint.effect) && !(tolerations ?? []).some((t) => tolerates(t, taint)));
}
