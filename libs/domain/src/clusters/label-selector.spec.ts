import fc from 'fast-check';
import { formatLabelSelector, LabelRequirement, matchesLabelSelector, parseLabelSelector } from './label-selector';
import { validationError } from '../test/thrown';

describe('parseLabelSelector', () => {
  it('reads equality, inequality, existence and absence terms', () => {
    expect(parseLabelSelector('env=prod,tier!=web,gpu,!legacy')).toEqual([
      { key: 'env', op: '=', value: 'prod' },
      { key: 'tier', op: '!=', value: 'web' },
      { key: 'gpu', op: 'exists' },
      { key: 'legacy', op: '!exists' },
    ]);
  });

  it('treats == as =', () => {
    expect(parseLabelSelector('env==prod')).toEqual([{ key: 'env', op: '=', value: 'prod' }]);
  });

  it('tolerates spaces around terms and operators, as kubectl does', () => {
    expect(parseLabelSelector(' env = prod , ! legacy ')).toEqual([
      { key: 'env', op: '=', value: 'prod' },
      { key: 'legacy', op: '!exists' },
    ]);
  });

  it('reads prefixed keys and an empty value', () => {
    expect(parseLabelSelector('app.kubernetes.io/name=api,team=')).toEqual([
      { key: 'app.kubernetes.io/name', op: '=', value: 'api' },
      { key: 'team', op: '=', value: '' },
    ]);
  });

  it('reads an empty selector as no requirements', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('   ')).toEqual([]);
  });

  it('refuses set-based terms with a pointer to the supported syntax', () => {
    const error = validationError(() => parseLabelSelector('env in (prod,staging)'));
    expect(error.violations).toEqual([{ field: 'label_selector', message: expect.stringContaining('set-based requirements') }]);
  });

  it.each([
    ['env=prod,,tier=web', 'term 2 is empty'],
    ['env=prod,', 'term 2 is empty'],
    ['tier=we b', '"we b" is not a label value'],
    ['env===prod', '"=prod" is not a label value'],
    ['!', '"" is not a label key'],
    ['=prod', '"" is not a label key'],
    ['Bad_Domain.com/x', 'is not a label key'],
    ['a!b', '"a!b" is not a label key'],
  ])('refuses %j (%s)', (selector, message) => {
    const error = validationError(() => parseLabelSelector(selector));
    expect(error.violations[0].field).toBe('label_selector');
    expect(error.violations[0].message).toContain(message);
  });

  it('reports every bad term, not only the first', () => {
    const error = validationError(() => parseLabelSelector('-x=1,env=prod,y=-'));
    expect(error.violations.map((v) => v.message.slice(0, 6))).toEqual(['term 1', 'term 3']);
  });
});

describe('matchesLabelSelector', () => {
  const labels = { env: 'prod', tier: 'db', gpu: '' };

  it.each([
    ['env=prod', true],
    ['env=staging', false],
    ['tier!=web', true],
    ['tier!=db', false],
    ['team!=payments', true],
    ['gpu', true],
    ['team', false],
    ['!legacy', true],
    ['!gpu', false],
    ['gpu=', true],
    ['env=prod,tier!=web,gpu,!legacy', true],
    ['env=prod,team', false],
    ['', true],
  ])('given env=prod,tier=db,gpu="" then %j matches: %s', (selector, expected) => {
    expect(matchesLabelSelector(labels, parseLabelSelector(selector))).toBe(expected);
  });

  it('does not find labels on the object prototype', () => {
    expect(matchesLabelSelector({}, parseLabelSelector('constructor'))).toBe(false);
    expect(matchesLabelSelector({}, parseLabelSelector('!toString'))).toBe(true);
  });
});

describe('label selector properties', () => {
  const name = fc.stringMatching(/^[a-z]([-a-z0-9.]{0,8}[a-z0-9])?$/);
  const value = fc.oneof(fc.constant(''), name);
  const requirement: fc.Arbitrary<LabelRequirement> = fc.oneof(
    fc.record({ key: name, op: fc.constantFrom('=' as const, '!=' as const), value }),
    fc.record({ key: name, op: fc.constantFrom('exists' as const, '!exists' as const) }),
  );
  const labels = fc.dictionary(name, value, { maxKeys: 5 });

  it('reads back what it formats', () => {
    fc.assert(
      fc.property(fc.array(requirement, { minLength: 1, maxLength: 6 }), (reqs) => {
        expect(parseLabelSelector(formatLabelSelector(reqs))).toEqual(reqs);
      }),
    );
  });

  it('!= is the negation of =, and !key the negation of key', () => {
    fc.assert(
      fc.property(labels, name, value, (l, key, v) => {
        expect(matchesLabelSelector(l, [{ key, op: '!=', value: v }])).toBe(!matchesLabelSelector(l, [{ key, op: '=', value: v }]));
        expect(matchesLabelSelector(l, [{ key, op: '!exists' }])).toBe(!matchesLabelSelector(l, [{ key, op: 'exists' }]));
      }),
    );
  });

  it('ANDs its terms', () => {
    fc.assert(
      fc.property(labels, fc.array(requirement), fc.array(requirement), (l, a, b) => {
        expect(matchesLabelSelector(l, [...a, ...b])).toBe(matchesLabelSelector(l, a) && matchesLabelSelector(l, b));
      }),
    );
  });
});
