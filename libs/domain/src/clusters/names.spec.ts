import fc from 'fast-check';
import { DNS_LABEL_MAX, isDnsLabel, isLabelKey, isLabelValue, labelViolations } from './names';

describe('isDnsLabel', () => {
  it.each(['a', 'prod-zrh', 'a1', 'x'.repeat(DNS_LABEL_MAX)])('accepts %j', (name) => {
    expect(isDnsLabel(name)).toBe(true);
  });

  it.each(['', '1abc', '-a', 'a-', 'Prod', 'a_b', 'a.b', 'x'.repeat(DNS_LABEL_MAX + 1)])('refuses %j', (name) => {
    expect(isDnsLabel(name)).toBe(false);
  });
});

describe('isLabelKey', () => {
  it.each(['app', 'app.kubernetes.io/name', 'example.com/A_b.c-D', 'node-role.kubernetes.io/control-plane', 'x'.repeat(63), `${'a'.repeat(253)}/n`])(
    'accepts %j',
    (key) => {
      expect(isLabelKey(key)).toBe(true);
    },
  );

  it.each(['', '/name', 'example.com/', 'Example.com/x', 'a/b/c', '-a', 'a-', '_a', 'a b', 'x'.repeat(64), `${'a'.repeat(254)}/n`, 'exa_mple.com/x'])(
    'refuses %j',
    (key) => {
      expect(isLabelKey(key)).toBe(false);
    },
  );
});

describe('isLabelValue', () => {
  it.each(['', 'prod', 'v1.35.4', 'A_b-c.d', 'x'.repeat(63)])('accepts %j', (value) => {
    expect(isLabelValue(value)).toBe(true);
  });

  it.each(['-prod', 'prod.', 'a b', 'a/b', 'x'.repeat(64), 'é'])('refuses %j', (value) => {
    expect(isLabelValue(value)).toBe(false);
  });

  it('accepts every DNS label as a label key and as a label value', () => {
    const label = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(label, (s) => {
        expect(isDnsLabel(s)).toBe(true);
        expect(isLabelKey(s)).toBe(true);
        expect(isLabelValue(s)).toBe(true);
      }),
    );
  });
});

describe('labelViolations', () => {
  it('names each bad key and value by its JSON path', () => {
    // given
    const labels = { env: 'prod', 'Bad.Domain/x': 'ok', team: 'has space' };
    // when
    const violations = labelViolations(labels);
    // then
    expect(violations.map((v) => v.field)).toEqual(['labels.Bad.Domain/x', 'labels.team']);
  });

  it('finds nothing wrong with valid labels', () => {
    expect(labelViolations({ 'app.kubernetes.io/name': 'api', tier: '' })).toEqual([]);
  });
});
