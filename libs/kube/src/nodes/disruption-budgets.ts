/**
 * Which PodDisruptionBudget blocked an eviction. kube-apiserver answers a blocked eviction with
 * 429 and a cause "The disruption budget <name> needs N healthy pods and has M currently"
 * (pkg/registry/core/pod/storage/eviction.go); when that cause is absent or unreadable, the
 * budgets whose selector matches the pod's labels are the answer.
 */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: { key: string; operator: string; values?: string[] | null }[] | null;
}

export interface BudgetFacts {
  namespace: string;
  name: string;
  selector: LabelSelector | null;
}

const CAUSE = /^The disruption budget (\S+) /;

export function budgetNamedIn(causeMessages: readonly string[]): string | null {
  for (const message of causeMessages) {
    const match = CAUSE.exec(message);
    if (match) return match[1]!;
  }
  return null;
}

/** metav1.LabelSelector semantics: an empty selector matches everything, a null one nothing (as PDBs use it). */
export function selectorMatches(selector: LabelSelector | null, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[expression.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expression.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function budgetsCovering(pod: { namespace: string; labels: Record<string, string> }, budgets: readonly BudgetFacts[]): string[] {
  return budgets.filter((b) => b.namespace === pod.namespace && selectorMatches(b.selector, pod.labels)).map((b) => b.name);
}
