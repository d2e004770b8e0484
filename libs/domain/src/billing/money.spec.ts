import { divideRounded, formatScaled, Money, parseScaled, toCents } from './money';

describe('exact money', () => {
  it('rounds half away from zero, once', () => {
    expect(toCents(new Money('262.605'))).toBe(26_261);
    expect(toCents(new Money('262.6049999'))).toBe(26_260);
    expect(toCents(new Money('-48.975'))).toBe(-4_898);
    expect(toCents(new Money('-0.004'))).toBe(0);
    expect(Object.is(toCents(new Money('-0.004')), 0)).toBe(true);
  });

  it('divides integers with the same rule', () => {
    expect(divideRounded(5n, 2n)).toBe(3n);
    expect(divideRounded(-5n, 2n)).toBe(-3n);
    expect(divideRounded(4n, 3n)).toBe(1n);
    expect(divideRounded(0n, 7n)).toBe(0n);
    expect(() => divideRounded(1n, 0n)).toThrow(RangeError);
  });

  it('reads and writes decimals as scaled integers without losing a digit', () => {
    expect(parseScaled('0.164384', 9)).toBe(164_384_000n);
    expect(parseScaled('12', 9)).toBe(12_000_000_000n);
    expect(parseScaled('3.500000000', 9)).toBe(3_500_000_000n);
    expect(parseScaled('-0.1', 9)).toBe(-100_000_000n);
    expect(() => parseScaled('0.0000000001', 9)).toThrow(RangeError);
    expect(() => parseScaled('1e3', 9)).toThrow(RangeError);
    expect(formatScaled(1_312_991_667n, 6)).toBe('1312.991667');
    expect(formatScaled(744_000_000n, 6)).toBe('744');
    expect(formatScaled(5n, 6)).toBe('0.000005');
    expect(formatScaled(-100_000n, 6)).toBe('-0.1');
  });
});
