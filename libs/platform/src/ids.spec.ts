import { firstIdAt, isId, newId } from './ids';

describe('ids', () => {
  it('are prefixed ULIDs in lower case, unique and sorted by creation', () => {
    const ids = Array.from({ length: 5000 }, () => newId('cl'));
    for (const id of ids.slice(0, 50)) expect(isId('cl', id)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('spread their random part over the whole alphabet', () => {
    // After `op_` and ten characters of time, the first random character: drawn afresh for each
    // millisecond (ids within one only count up from it), any of the 32 symbols.
    const seen = new Set<string>();
    const deadline = Date.now() + 5_000;
    while (seen.size < 32 && Date.now() < deadline) seen.add(newId('op').charAt(13));
    expect(seen.size).toBe(32);
  });

  it('sort after the first id of their moment and before the first of a later one', () => {
    const id = newId('evt');
    const now = Date.now();
    expect(firstIdAt('evt', new Date(now - 1000)) < id).toBe(true);
    expect(id < firstIdAt('evt', new Date(now + 1000))).toBe(true);
  });
});
