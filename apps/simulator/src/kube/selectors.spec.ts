import { parseFieldSelector, parseLabelSelector } from './selectors';
import { KubeApiError, type KubeObject } from './types';

const pod = (labels: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', labels },
  ...extra,
});

/** The error a parse throws: its status code and message. */
function refusal(parse: () => unknown): { code: number; reason: string; message: string } {
  try {
    parse();
  } catch (error) {
    if (error instanceof KubeApiError) return { code: error.code, reason: error.reason, message: error.message };
    throw error;
  }
  throw new Error('the selector was accepted');
}

const NAME_RULE =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character " +
  "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe('label selectors, parsed as k8s.io/apimachinery/pkg/labels does', () => {
  // The messages are what labels.Parse returns for each selector (kube-apiserver sends them as is in a 400).
  it.each([
    ['env in (a', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a=b,,c', "found ',', expected: identifier after ','"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a notin b', "unable to parse requirement: found 'b' expected: '('"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a in (b c)', "unable to parse requirement: found 'c', expected: ',' or ')'"],
    ['a in (=)', "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ['a in (b,=)', "unable to parse requirement: found '=', expected: ',', or identifier"],
    ['a=(', "unable to parse requirement: found '(', expected: identifier"],
    ['a,', "found '', expected: identifier after ','"],
    ['-a', `unable to parse requirement: <nil>: Invalid value: "-a": name part ${NAME_RULE}`],
    [
      'Example.com/a=b',
      `unable to parse requirement: <nil>: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ],
    ['/a', `unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty`],
    [`${'k'.repeat(64)}`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${VALUE_RULE}`],
    ['a in (ok,-x)', `unable to parse requirement: values[0][a]: Invalid value: "-x": ${VALUE_RULE}`],
    ['a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
  ])('refuses %j with upstream’s message', (selector, message) => {
    expect(refusal(() => parseLabelSelector(selector))).toEqual({ code: 400, reason: 'BadRequest', message });
  });

  it('matches set-based, equality, existence and integer requirements', () => {
    const match = parseLabelSelector('env in (prod, staging),tier!=db,!legacy,app,size>2');
    expect(match(pod({ env: 'prod', tier: 'web', app: 'x', size: '3' }))).toBe(true);
    expect(match(pod({ env: 'prod', tier: 'web', app: 'x', size: '2' }))).toBe(false);
    expect(match(pod({ env: 'prod', tier: 'web', app: 'x', size: 'big' }))).toBe(false);
    expect(match(pod({ env: 'dev', tier: 'web', app: 'x', size: '3' }))).toBe(false);
    expect(match(pod({ env: 'prod', tier: 'db', app: 'x', size: '3' }))).toBe(false);
    expect(match(pod({ env: 'prod', app: 'x', size: '3', legacy: 'y' }))).toBe(false);
  });

  it('takes empty values and keywords as values where upstream does', () => {
    // `()` and `(,)` are the set of the empty value; `in` is a value after an operator.
    expect(parseLabelSelector('a in ()')(pod({ a: '' }))).toBe(true);
    expect(parseLabelSelector('a in ()')(pod({ a: 'x' }))).toBe(false);
    expect(parseLabelSelector('a in (,x)')(pod({ a: '' }))).toBe(true);
    expect(parseLabelSelector('a=')(pod({ a: '' }))).toBe(true);
    expect(parseLabelSelector('a in (in,notin)')(pod({ a: 'notin' }))).toBe(true);
    expect(parseLabelSelector('in=x')(pod({ in: 'x' }))).toBe(true);
    expect(parseLabelSelector('a notin (x),b<10')(pod({ b: '9' }))).toBe(true);
    expect(parseLabelSelector('  ')(pod({}))).toBe(true);
  });
});

describe('field selectors, parsed as k8s.io/apimachinery/pkg/fields does', () => {
  it.each([
    ['Pod', 'spec.nodeName', "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"],
    ['Pod', 'spec.nodeName=a=b', 'invalid field selector: unescaped character in value: 61'],
    ['Pod', 'spec.nodeName=a\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['Pod', 'spec.nodeName=a\\', 'invalid field selector: invalid escape sequence: \\'],
    ['Pod', 'spec.nodeNam=a', 'field label not supported: spec.nodeNam'],
    ['Pod', 'spec.nodeName =a', 'field label not supported: spec.nodeName '],
    ['Node', 'metadata.namespace=a', 'field label not supported: metadata.namespace'],
    ['Job', 'status.succeeded=1', 'field label "status.succeeded" not supported for batchv1.Job'],
    ['ConfigMap', 'data.a=b', '"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ])('refuses %s %j with upstream’s message', (kind, selector, message) => {
    expect(refusal(() => parseFieldSelector(selector, kind))).toEqual({ code: 400, reason: 'BadRequest', message });
  });

  it('matches equality terms, escaped values and the old spec.host name of spec.nodeName', () => {
    const running = pod({}, { spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
    expect(parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded', 'Pod')(running)).toBe(true);
    expect(parseFieldSelector('spec.nodeName==n2', 'Pod')(running)).toBe(false);
    expect(parseFieldSelector('spec.host=n1', 'Pod')(running)).toBe(true);
    expect(parseFieldSelector('metadata.name=a\\,b', 'ConfigMap')({ ...running, metadata: { name: 'a,b' } })).toBe(true);
    expect(parseFieldSelector(',,', 'Pod')(running)).toBe(true);
  });
});
