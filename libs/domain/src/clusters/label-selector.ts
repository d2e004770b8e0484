/**
 * Equality-based label selectors, as `kubectl get -l` and the Kubernetes API accept them
 * (kubernetes.io "Labels and Selectors"): `env=prod,tier!=web,gpu,!legacy`. Terms are ANDed.
 * Set-based terms (`env in (a,b)`) are refused with a clear message rather than half-supported.
 */
import { FieldViolation, ValidationError } from '../errors/domain-error';
import { isLabelKey, isLabelValue } from './names';

export type LabelRequirement = { key: string; op: '=' | '!=' | 'exists' | '!exists'; value?: string };

const FIELD = 'label_selector';
const EQUALITY_TERM = /^([^=!]*?)\s*(==|!=|=)\s*(.*)$/;

/** The requirements of a selector; an empty selector has none and so matches everything. */
export function parseLabelSelector(s: string): LabelRequirement[] {
  if (s.trim() === '') return [];
  if (s.includes('(')) {
    throw invalid([`set-based requirements such as "env in (a,b)" are not supported; use equality-based terms such as env=prod,tier!=web,gpu,!legacy`]);
  }

  const problems: string[] = [];
  const requirements: LabelRequirement[] = [];
  for (const [i, raw] of s.split(',').entries()) {
    const term = raw.trim();
    const at = `term ${i + 1}`;
    if (term === '') {
      problems.push(`${at} is empty; separate terms with a single comma`);
      continue;
    }
    const requirement = parseTerm(term);
    if (!isLabelKey(requirement.key)) {
      problems.push(
        `${at} ("${term}"): "${requirement.key}" is not a label key (optional DNS-subdomain prefix and "/", then up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
      );
    } else if (requirement.value !== undefined && !isLabelValue(requirement.value)) {
      problems.push(
        `${at} ("${term}"): "${requirement.value}" is not a label value (up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, or empty)`,
      );
    } else {
      requirements.push(requirement);
    }
  }
  if (problems.length > 0) throw invalid(problems);
  return requirements;
}

function parseTerm(term: string): LabelRequirement {
  if (term.startsWith('!')) return { key: term.slice(1).trim(), op: '!exists' };
  const m = EQUALITY_TERM.exec(term);
  if (!m) return { key: term, op: 'exists' };
  // `==` is a synonym of `=` in Kubernetes; keep one spelling so stored selectors compare equal.
  return { key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] };
}

function invalid(messages: string[]): ValidationError {
  const violations: FieldViolation[] = messages.map((message) => ({ field: FIELD, message }));
  return new ValidationError(violations);
}

/** The canonical text of a selector; `parseLabelSelector` reads it back unchanged. */
export function formatLabelSelector(requirements: readonly LabelRequirement[]): string {
  return requirements
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!exists':
          return `!${r.key}`;
        default:
          return `${r.key}${r.op}${r.value ?? ''}`;
      }
    })
    .join(',');
}

/**
 * Whether labels satisfy every requirement. As in Kubernetes, `key!=value` also matches objects
 * without the key, so it is the exact negation of `key=value`.
 */
export function matchesLabelSelector(labels: Record<string, string>, reqs: readonly LabelRequirement[]): boolean {
  return reqs.every((r) => {
    // Own properties only: a label named "constructor" must not be found on Object.prototype.
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case '=':
        return has && labels[r.key] === (r.value ?? '');
      case '!=':
        return !has || labels[r.key] !== (r.value ?? '');
    }
  });
}
