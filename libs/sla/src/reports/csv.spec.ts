import { prefersCsv, toCsv } from './csv';

describe('toCsv', () => {
  it('writes a header row and CRLF-terminated rows, quoting only fields that need it (RFC 4180)', () => {
    const rows = [{ name: 'plain', note: 'a, b', quote: 'say "hi"', lines: 'one\ntwo', padded: ' x', n: 12.5, ok: true, none: null }];
    expect(toCsv(['name', 'note', 'quote', 'lines', 'padded', 'n', 'ok', 'none'], rows)).toBe(
      'name,note,quote,lines,padded,n,ok,none\r\n' + 'plain,"a, b","say ""hi""","one\ntwo"," x",12.5,true,\r\n',
    );
  });

  it('writes just the header for no rows, so an empty month is still a valid file', () => {
    expect(toCsv<{ a: string; b: number }>(['a', 'b'], [])).toBe('a,b\r\n');
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
