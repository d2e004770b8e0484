/**
 * Names Capstan hands to Kubernetes and providers, validated with Kubernetes' own rules
 * (k8s.io/apimachinery pkg/util/validation) so a name accepted here is never refused downstream.
 */

/**
 * Cluster and node-pool names: an RFC 1035 label (must start with a letter), because the name
 * ends up in DNS names and GKE resource names, which both need a leading letter.
 */
export const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

export function isDnsLabel(s: string): boolean {
  return s.length <= DNS_LABEL_MAX && DNS_LABEL.test(s);
}

/** RFC 1123 subdomain as Kubernetes checks it (IsDNS1123Subdomain): the optional label-key prefix. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MAX = 253;

/** Kubernetes "qualified name" part: the label name, and any non-empty label value. */
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const QUALIFIED_NAME_MAX = 63;

/** A label key: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters (IsQualifiedName). */
export function isLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  const name = slash === -1 ? k : k.slice(slash + 1);
  if (slash !== -1) {
    const prefix = k.slice(0, slash);
    if (prefix.length === 0 || prefix.length > DNS1123_SUBDOMAIN_MAX || !DNS1123_SUBDOMAIN.test(prefix)) return false;
  }
  return name.length <= QUALIFIED_NAME_MAX && QUALIFIED_NAME.test(name);
}

/** A label value: empty, or at most 63 characters of the name alphabet (IsValidLabelValue). */
export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= QUALIFIED_NAME_MAX && QUALIFIED_NAME.test(v));
}

/** Why `labels` would be refused, one entry per bad key or value, named by JSON path. */
export function labelViolations(labels: Record<string, string>, field = 'labels'): { field: string; message: string }[] {
  const violations: { field: string; message: string }[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!isLabelKey(key)) {
      violations.push({
        field: `${field}.${key}`,
        message: `"${key}" is not a Kubernetes label key: an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
      });
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      violations.push({
        field: `${field}.${key}`,
        message: `${JSON.stringify(value)} is not a Kubernetes label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, or empty`,
      });
    }
  }
  return violations;
}
