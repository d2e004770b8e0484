import { parseCsvObjects } from '../test/parse-csv';
import { prefersCsv, signedDecimal, toCsv } from './csv';

describe('toCsv', () => {
  it('writes a header row and CRLF-terminated rows, quoting fields that need it (RFC 4180)', () => {
    const rows = [{ name: 'plain', note: 'a, b', quote: 'say "hi"', lines: 'one\ntwo', n: 12.5, ok: true, none: null }];
    expect(toCsv(['name', 'note', 'quote', 'lines', 'n', 'ok', 'none'], rows)).toBe(
      'name,note,quote,lines,n,ok,none\r\n' + 'plain,"a, b","say ""hi""","one\ntwo",12.5,true,\r\n',
    );
  });

  it('writes just the header for no rows, so an empty month is still a valid file', () => {
    expect(toCsv<{ a: string; b: number }>(['a', 'b'], [])).toBe('a,b\r\n');
  });

  it('escapes text a spreadsheet would run as a formula, and leaves negative numbers numbers', () => {
    const rows = [
      { name: '=HYPERLINK("https://evil.example","click")', amount: signedDecimal('-48.97') },
      { name: '+1+cmd|/C calc', amount: signedDecimal('12.30') },
      { name: '-2+3', amount: -5 },
      { name: '@SUM(A1:A2)', amount: 0 },
    ];
    const parsed = parseCsvObjects(toCsv(['name', 'amount'], rows));
    expect(parsed).toEqual([
      { name: `'=HYPERLINK("https://evil.example","click")`, amount: '-48.97' },
      { name: "'+1+cmd|/C calc", amount: '12.30' },
      { name: "'-2+3", amount: '-5' },
      { name: "'@SUM(A1:A2)", amount: '0' },
    ]);
  });

  it('refuses a negative decimal that a number cannot write back exactly', () => {
    expect(() => signedDecimal('-0.1234567890123456789')).toThrow(RangeError);
  });
});

describe('prefersCsv', () => {
  it.each([
    ['text/csv', true],
    ['text/csv; charset=utf-8', true],
    ['TEXT/CSV', true],
    ['text/csv, application/json', true],
    ['application/json;q=0.5, text/csv', true],
    ['text/csv, */*;q=0.1', true],
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['application/json', false],
    ['application/json, text/csv;q=0.5', false],
    ['text/csv;q=0', false],
    ['text/*', false],
  ])('%j -> %s', (accept, csv) => {
    expect(prefersCsv(accept)).toBe(csv);
  });
});
