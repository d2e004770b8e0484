import { KubeApiError, type KubeObject } from './types';

/**
 * Label and field selectors in Kubernetes' query syntax, parsed once and matched in memory.
 * Labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`. Fields: `path=v`,
 * `path==v`, `path!=v` for the paths kube-apiserver supports for the kinds we serve.
 */
export type Matcher = (object: KubeObject) => boolean;

type Requirement = { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

export function parseLabelSelector(selector: string | undefined | null): Matcher {
  if (!selector?.trim()) return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'in':
          return has && r.values.includes(labels[r.key]!);
        case 'notin':
          return !has || !r.values.includes(labels[r.key]!);
      }
    });
  };
}

/** Splits on commas outside parentheses. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function parseRequirement(text: string): Requirement {
  const invalid = () => new KubeApiError(400, 'BadRequest', `unable to parse requirement: invalid label selector "${text}"`);
  let match = /^!\s*(\S+)$/.exec(text);
  if (match) {
    if (!LABEL_KEY.test(match[1]!)) throw invalid();
    return { key: match[1]!, op: '!exists' };
  }
  match = /^(\S+?)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (match) {
    if (!LABEL_KEY.test(match[1]!)) throw invalid();
    const values = match[3]!.split(',').map((v) => v.trim());
    return { key: match[1]!, op: match[2] as 'in' | 'notin', values };
  }
  match = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(text);
  if (match) {
    if (!LABEL_KEY.test(match[1]!)) throw invalid();
    return { key: match[1]!, op: match[2] === '!=' ? 'notin' : 'in', values: [match[3]!] };
  }
  if (LABEL_KEY.test(text)) return { key: text, op: 'exists' };
  throw invalid();
}

/** The field paths kube-apiserver lets one select by, for every kind, and for some kinds more. */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const KIND_FIELDS: Record<string, string[]> = {
  Pod: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
  Event: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  Namespace: ['status.phase'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
};

export function parseFieldSelector(selector: string | undefined | null, kind: string): Matcher {
  if (!selector?.trim()) return () => true;
  const allowed = new Set([...COMMON_FIELDS, ...(KIND_FIELDS[kind] ?? [])]);
  const terms = selector
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t)
    .map((term) => {
      const match = /^([A-Za-z0-9.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!match) throw new KubeApiError(400, 'BadRequest', `invalid selector: '${selector}'; can't understand '${term}'`);
      const [, path, op, value] = match as unknown as [string, string, string, string];
      if (!allowed.has(path)) throw new KubeApiError(400, 'BadRequest', `"${path}" is not a known field selector: only "${[...allowed].join('", "')}"`);
      return { path, negate: op === '!=', value };
    });
  return (object) => terms.every((t) => (fieldValue(object, t.path) === t.value) !== t.negate);
}

/** A field as its selector compares it: a string, '' when absent (as kube-apiserver does). */
export function fieldValue(object: KubeObject, path: string): string {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return '';
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return path === 'spec.unschedulable' ? 'false' : '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value as string | number | boolean);
}
