import { isQualifiedName, isValidLabelValue } from './label-validation';
import { KubeApiError, type KubeObject } from './types';

/**
 * Label and field selectors in Kubernetes' query syntax, parsed once and matched in memory, with
 * kube-apiserver's errors (400 BadRequest, its message as is; apps/simulator/README.md, "What is emulated").
 *
 * Labels: a port of the lexer and parser of k8s.io/apimachinery/pkg/labels/selector.go (v0.32,
 * Apache-2.0, Copyright The Kubernetes Authors): `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`. Fields: fields/selector.go's terms `path=v`,
 * `path==v`, `path!=v` (with `\,` `\=` `\\` escapes), then each kind's field label conversion.
 */
export type Matcher = (object: KubeObject) => boolean;

type Operator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';
interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export function parseLabelSelector(selector: string | undefined | null): Matcher {
  if (!selector) return () => true;
  const requirements = parseLabelRequirements(selector);
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => requirementMatches(r, labels));
  };
}

function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(value!)) return false;
      const [actual, bound] = [BigInt(value!), BigInt(r.values[0]!)];
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

// --- the lexer ---

type Token = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'identifier' | 'in' | '<' | '!=' | 'notin' | '(';
interface Scanned {
  token: Token;
  literal: string;
}

const LITERAL_TOKENS: Record<string, Token> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};
const tokenOf = (text: string): Token | undefined => (Object.prototype.hasOwnProperty.call(LITERAL_TOKENS, text) ? LITERAL_TOKENS[text] : undefined);
const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string) => '=!(),><'.includes(ch) && ch !== '';

function lex(input: string): Scanned[] {
  let pos = 0;
  const read = () => (pos < input.length ? input[pos++]! : '');
  const scanned: Scanned[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch === '') {
      scanned.push({ token: 'end', literal: '' });
      return scanned;
    }
    pos--;
    if (isSpecialSymbol(ch)) {
      // The longest run of symbols that is still an operator (`!=` rather than `!` then `=`).
      let buffer = '';
      let last: Scanned | undefined;
      for (;;) {
        const c = read();
        if (c === '') break;
        if (!isSpecialSymbol(c)) {
          pos--;
          break;
        }
        buffer += c;
        const token = tokenOf(buffer);
        if (token) last = { token, literal: buffer };
        else if (last) {
          pos--;
          break;
        }
      }
      scanned.push(last ?? { token: 'error', literal: `error expected: keyword found '${buffer}'` });
    } else {
      let buffer = '';
      for (;;) {
        const c = read();
        if (c === '') break;
        if (isSpecialSymbol(c) || isWhitespace(c)) {
          pos--;
          break;
        }
        buffer += c;
      }
      scanned.push({ token: tokenOf(buffer) ?? 'identifier', literal: buffer });
    }
  }
}

// --- the parser ---

class SelectorSyntaxError extends Error {}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

/** The requirements of a label selector; a KubeApiError 400 with upstream's message when malformed. */
export function parseLabelRequirements(selector: string): Requirement[] {
  try {
    return new LabelSelectorParser(lex(selector)).parse();
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw new KubeApiError(400, 'BadRequest', error.message);
    throw error;
  }
}

class LabelSelectorParser {
  private position = 0;
  constructor(private readonly items: Scanned[]) {}

  /** `in` and `notin` are plain identifiers where a value is expected (`a in (in)`). */
  private lookahead(values: boolean): Scanned {
    const item = this.items[this.position]!;
    return values && (item.token === 'in' || item.token === 'notin') ? { token: 'identifier', literal: item.literal } : item;
  }

  private consume(values: boolean): Scanned {
    const item = this.lookahead(values);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const { token, literal } = this.lookahead(true);
      switch (token) {
        case 'identifier':
        case '!': {
          try {
            requirements.push(this.parseRequirement());
          } catch (error) {
            if (error instanceof SelectorSyntaxError) throw new SelectorSyntaxError(`unable to parse requirement: ${error.message}`);
            throw error;
          }
          const next = this.consume(true);
          if (next.token === 'end') return requirements;
          if (next.token !== ',') throw new SelectorSyntaxError(`found '${next.literal}', expected: ',' or 'end of string'`);
          const after = this.lookahead(true);
          if (after.token !== 'identifier' && after.token !== '!') throw new SelectorSyntaxError(`found '${after.literal}', expected: identifier after ','`);
          break;
        }
        case 'end':
          return requirements;
        default:
          throw new SelectorSyntaxError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const { key, operator: inferred } = this.parseKeyAndInferOperator();
    if (inferred) return newRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): { key: string; operator?: Operator } {
    let operator: Operator | undefined;
    let item = this.consume(true);
    if (item.token === '!') {
      operator = '!';
      item = this.consume(true);
    }
    if (item.token !== 'identifier') throw new SelectorSyntaxError(`found '${item.literal}', expected: identifier`);
    const errors = isQualifiedName(item.literal);
    // The parser validates the key with no field path, which upstream prints as `<nil>`.
    if (errors.length > 0) throw new SelectorSyntaxError(invalidValue('<nil>', item.literal, errors.join('; ')));
    const next = this.lookahead(true).token;
    if ((next === 'end' || next === ',') && operator !== '!') operator = 'exists';
    return { key: item.literal, operator };
  }

  private parseOperator(): Operator {
    const { token, literal } = this.consume(false);
    switch (token) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return token;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new SelectorSyntaxError(`found '${literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    const open = this.consume(true);
    if (open.token !== '(') throw new SelectorSyntaxError(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.lookahead(true);
    switch (token) {
      case 'identifier':
      case ',': {
        const values = this.parseIdentifiersList();
        if (this.consume(true).token !== ')') throw new SelectorSyntaxError(`found '${literal}', expected: ')'`);
        return values;
      }
      case ')':
        this.consume(true);
        return new Set(['']);
      default:
        throw new SelectorSyntaxError(`found '${literal}', expected: ',', ')' or identifier`);
    }
  }

  /** A list of comma-separated values, any of them empty (`(a,,b)`, `(,a)`). */
  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.consume(true);
      if (token === 'identifier') {
        values.add(literal);
        const next = this.lookahead(true);
        if (next.token === ',') continue;
        if (next.token === ')') return values;
        throw new SelectorSyntaxError(`found '${next.literal}', expected: ',' or ')'`);
      } else if (token === ',') {
        if (values.size === 0) values.add('');
        const next = this.lookahead(true).token;
        if (next === ')') {
          values.add('');
          return values;
        }
        if (next === ',') {
          this.consume(true);
          values.add('');
        }
      } else throw new SelectorSyntaxError(`found '${literal}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead(true).token;
    if (next === 'end' || next === ',') return new Set(['']);
    const { token, literal } = this.consume(true);
    if (token === 'identifier') return new Set([literal]);
    throw new SelectorSyntaxError(`found '${literal}', expected: identifier`);
  }
}

/** field.Invalid(path, value, detail).Error(). */
const invalidValue = (path: string, value: unknown, detail: string) =>
  `${path}: Invalid value: ${typeof value === 'string' ? JSON.stringify(value) : goSliceLiteral(value as string[])}: ${detail}`;
/** How Go's %#v prints a []string, as field errors about a values set show it. */
const goSliceLiteral = (values: string[]) => `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;

/** labels.NewRequirement: the key, the number of values for the operator, and each value. */
function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errors: string[] = [];
  const keyErrors = isQualifiedName(key);
  if (keyErrors.length > 0) errors.push(invalidValue('key', key, keyErrors.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errors.push(invalidValue('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errors.push(invalidValue('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errors.push(invalidValue('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errors.push(invalidValue('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((value, i) => {
        if (!isInt64(value)) errors.push(invalidValue(`values[${i}]`, value, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((value, i) => {
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length > 0) errors.push(invalidValue(`values[${i}][${key}]`, value, valueErrors.join('; ')));
  });
  if (errors.length > 0) throw new SelectorSyntaxError(aggregate(errors));
  return { key, operator, values };
}

/** strconv.ParseInt(value, 10, 64) succeeds. */
function isInt64(value: string): boolean {
  if (!/^[-+]?\d+$/.test(value)) return false;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several distinct ones in brackets. */
function aggregate(messages: string[]): string {
  const distinct = [...new Set(messages)];
  return distinct.length === 1 ? distinct[0]! : `[${distinct.join(', ')}]`;
}

/**
 * The field paths kube-apiserver lets one select by: its field label conversion functions for the
 * kinds that register one (with their own message for any other path), else metadata.name and
 * metadata.namespace (runtime.DefaultMetaV1FieldSelectorConversion).
 */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const notSupported = (path: string) => `field label not supported: ${path}`;
const KIND_FIELDS: Record<string, { fields: string[]; refuse?: (path: string) => string }> = {
  Pod: {
    fields: [
      ...COMMON_FIELDS,
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    refuse: notSupported,
  },
  Node: { fields: ['metadata.name', 'spec.unschedulable'], refuse: notSupported },
  Secret: { fields: [...COMMON_FIELDS, 'type'], refuse: notSupported },
  Event: {
    fields: [
      ...COMMON_FIELDS,
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
    refuse: notSupported,
  },
  Namespace: { fields: [...COMMON_FIELDS, 'status.phase'], refuse: notSupported },
  ReplicaSet: { fields: [...COMMON_FIELDS, 'status.replicas'], refuse: notSupported },
  Job: { fields: [...COMMON_FIELDS, 'status.successful'], refuse: (path) => `field label ${JSON.stringify(path)} not supported for batchv1.Job` },
};
const defaultRefusal = (path: string) => `${JSON.stringify(path)} is not a known field selector: only "metadata.name", "metadata.namespace"`;

interface FieldTerm {
  path: string;
  negate: boolean;
  value: string;
}

export function parseFieldSelector(selector: string | undefined | null, kind: string): Matcher {
  if (!selector) return () => true;
  const rules = KIND_FIELDS[kind] ?? { fields: COMMON_FIELDS, refuse: defaultRefusal };
  const terms = parseFieldTerms(selector);
  for (const term of terms) {
    // Pods still answer to `spec.host`, the v1 clients' old name of spec.nodeName.
    if (kind === 'Pod' && term.path === 'spec.host') term.path = 'spec.nodeName';
    else if (!rules.fields.includes(term.path)) throw new KubeApiError(400, 'BadRequest', (rules.refuse ?? defaultRefusal)(term.path));
  }
  return (object) => terms.every((t) => (fieldValue(object, t.path) === t.value) !== t.negate);
}

/** fields.ParseSelector: comma-separated terms (`\,` is data), each split at its first operator, values unescaped. */
function parseFieldTerms(selector: string): FieldTerm[] {
  const terms: FieldTerm[] = [];
  for (const part of splitFieldTerms(selector).sort()) {
    if (part === '') continue;
    const split = splitFieldTerm(part);
    if (!split) throw new KubeApiError(400, 'BadRequest', `invalid selector: '${selector}'; can't understand '${part}'`);
    terms.push({ path: split.path, negate: split.operator === '!=', value: unescapeFieldValue(split.value) });
  }
  return terms;
}

function splitFieldTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** `!=` and `==` are tried before `=` at each position, so `a==b` is not `a` = `=b`. */
function splitFieldTerm(term: string): { path: string; operator: string; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const operator of ['!=', '==', '=']) {
      if (term.startsWith(operator, i)) return { path: term.slice(0, i), operator, value: term.slice(i + operator.length) };
    }
  }
  return undefined;
}

function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new KubeApiError(400, 'BadRequest', `invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') escaped = true;
    // Go prints the rune with %v, which is its number (61 for '=').
    else if (c === ',' || c === '=') throw new KubeApiError(400, 'BadRequest', `invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (escaped) throw new KubeApiError(400, 'BadRequest', 'invalid field selector: invalid escape sequence: \\');
  return out;
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
