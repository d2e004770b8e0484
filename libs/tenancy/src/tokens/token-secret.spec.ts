import { hashSecret, issueSecret, sameHash, tokenKindOf } from './token-secret';

describe('API token secrets', () => {
  it('issues prefixed high-entropy secrets and stores only their hash', () => {
    const issued = issueSecret('customer');
    expect(issued.secret).toMatch(/^cap_[A-Za-z0-9_-]{43}$/);
    expect(issued.secretHash).toBe(hashSecret(issued.secret));
    expect(issued.secretHash).not.toContain(issued.secret.slice(4));
    expect(issued.secret.startsWith(issued.displayPrefix)).toBe(true);
    expect(issued.displayPrefix).toHaveLength(10);
  });

  it('never issues the same secret twice', () => {
    const secrets = new Set(Array.from({ length: 1000 }, () => issueSecret('customer').secret));
    expect(secrets.size).toBe(1000);
  });

  it('tells customer and staff tokens apart and rejects malformed ones', () => {
    expect(tokenKindOf(issueSecret('customer').secret)).toBe('customer');
    expect(tokenKindOf(issueSecret('staff').secret)).toBe('staff');
    expect(tokenKindOf('cap_short')).toBeUndefined();
    expect(tokenKindOf(`Bearer ${issueSecret('customer').secret}`)).toBeUndefined();
  });

  it('compares hashes without short-circuiting on length or content', () => {
    const hash = hashSecret('cap_x');
    expect(sameHash(hash, hashSecret('cap_x'))).toBe(true);
    expect(sameHash(hash, hashSecret('cap_y'))).toBe(false);
    expect(sameHash(hash, 'abcd')).toBe(false);
  });
});
