import type { Pool, PoolClient } from 'pg';

/** A client checked out of a pool, and how to give it back. */
export interface CheckedOut {
  client: PoolClient;
  /** Gives the client back; a broken one (or one whose connection was lost) is closed, not reused. */
  release(broken?: boolean): void;
}

/**
 * Checks a client out for exclusive use. A checked-out client reports a lost connection (a
 * Postgres restart) on itself, not on the pool; between two statements nobody else hears it and
 * it would crash the process, so it is heard here and the client is not reused afterwards.
 */
export async function checkOut(pool: Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let lost = false;
  const onError = () => {
    lost = true;
  };
  client.on('error', onError);
  return {
    client,
    release: (broken = false) => {
      client.off('error', onError);
      client.release(broken || lost);
    },
  };
}

/** `work` between BEGIN and COMMIT on one client of `pool`; rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOut(pool);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    release();
    return result;
  } catch (error) {
    let broken = false;
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    release(broken);
    throw error;
  }
}
