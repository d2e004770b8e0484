import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { pgConnectionFromUrl } from './pg-connection';

describe('pgConnectionFromUrl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-connection-'));
  const ca = join(dir, 'root.crt');
  // Only read, never parsed here: node's TLS checks it when it connects.
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = 'postgresql://capstan:s%40cret%2Fx@db.example.com:6432/capstan';
  const tls = (query: string) => pgConnectionFromUrl(`${base}?${query}`).ssl as ConnectionOptions;

  it('reads host, port, user, a percent-encoded password and the database', () => {
    expect(pgConnectionFromUrl(base)).toEqual({
      host: 'db.example.com',
      port: 6432,
      user: 'capstan',
      password: 's@cret/x',
      database: 'capstan',
      ssl: undefined,
    });
  });

  it('defaults to 127.0.0.1:5432 as postgres, and takes a socket directory from ?host=', () => {
    expect(pgConnectionFromUrl('postgresql:///capstan?host=/var/run/postgresql')).toMatchObject({
      host: '/var/run/postgresql',
      port: 5432,
      user: 'postgres',
      database: 'capstan',
    });
    expect(pgConnectionFromUrl('postgres://localhost/capstan')).toMatchObject({ host: 'localhost', port: 5432, user: 'postgres', password: undefined });
  });

  it('refuses a URL of another scheme or without a database', () => {
    expect(() => pgConnectionFromUrl('mysql://localhost/capstan')).toThrow(/postgresql:\/\//);
    expect(() => pgConnectionFromUrl('postgresql://localhost')).toThrow(/names no database/);
  });

  it('connects in plain text without sslmode and with sslmode=disable', () => {
    expect(pgConnectionFromUrl(base).ssl).toBeUndefined();
    expect(pgConnectionFromUrl(`${base}?sslmode=disable`).ssl).toBe(false);
  });

  it('uses TLS without verifying the server for sslmode=prefer and require (prefer cannot fall back to plain text)', () => {
    for (const mode of ['prefer', 'require']) {
      const options = tls(`sslmode=${mode}`);
      expect(options).toEqual(expect.objectContaining({ rejectUnauthorized: false }));
    }
  });

  it('verifies the chain to the given root, but not the host name, for sslmode=require with sslrootcert', () => {
    const options = tls(`sslmode=require&sslrootcert=${encodeURIComponent(ca)}`);
    expect(options.rejectUnauthorized).not.toBe(false);
    expect(options.ca).toContain('BEGIN CERTIFICATE');
    expect(options.checkServerIdentity?.('db.example.com', {} as never)).toBeUndefined();
  });

  it('verifies the chain but not the host name for sslmode=verify-ca, which needs sslrootcert', () => {
    const options = tls(`sslmode=verify-ca&sslrootcert=${encodeURIComponent(ca)}`);
    expect(options.rejectUnauthorized).not.toBe(false);
    expect(options.ca).toContain('BEGIN CERTIFICATE');
    expect(typeof options.checkServerIdentity).toBe('function');
    expect(() => tls('sslmode=verify-ca')).toThrow(/sslrootcert/);
  });

  it('verifies the chain and the host name for sslmode=verify-full', () => {
    const options = tls('sslmode=verify-full');
    expect(options).toEqual({});
    const withRoot = tls(`sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`);
    expect(withRoot.ca).toContain('BEGIN CERTIFICATE');
    expect(withRoot.rejectUnauthorized).not.toBe(false);
    expect(withRoot.checkServerIdentity).toBeUndefined();
  });
});
