import { type Database, newId } from '@capstan/platform';
import { sql } from 'kysely';
import { hashSecret, issueSecret } from '@capstan/tenancy';
import type { LocalState } from './local-state';

export interface DemoCredentials {
  customerToken: string;
  staffToken: string;
}

/**
 * A demo organisation (Swiss residency) with a write token, and a staff admin with an API token.
 * Idempotent: a restart finds them and shows the same tokens, which only this machine knows.
 */
export async function seedDemo(db: Database, state: LocalState): Promise<DemoCredentials> {
  const customerToken = state.secret('demo-token', () => issueSecret('customer').secret);
  const staffToken = state.secret('staff-token', () => issueSecret('staff').secret);

  await db.transaction().execute(async (trx) => {
    // Each row is written once and found by its unique key on every later start.
    await trx
      .insertInto('organizations')
      .values({
        id: newId('org'),
        name: 'demo',
        display_name: 'Demo AG',
        residency: 'CH',
        plan: 'standard',
        max_clusters: 10,
        max_nodes: 50,
        updated_at: new Date(),
      })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const org = await trx.selectFrom('organizations').select('id').where('name', '=', 'demo').executeTakeFirstOrThrow();
    await trx
      .insertInto('api_tokens')
      .values({
        id: newId('tok'),
        organization_id: org.id,
        name: 'demo',
        display_prefix: customerToken.slice(0, 10),
        secret_hash: hashSecret(customerToken),
        scopes: sql<('read' | 'write')[]>`'{read,write}'::"TokenScope"[]`,
        created_by: 'system:seed',
      })
      .onConflict((conflict) => conflict.column('secret_hash').doNothing())
      .execute();
    await trx
      .insertInto('staff_users')
      .values({ id: newId('stf'), email: 'ops@capstan.local', display_name: 'Demo operator', role: 'admin' })
      .onConflict((conflict) => conflict.column('email').doNothing())
      .execute();
    const staff = await trx.selectFrom('staff_users').select('id').where('email', '=', 'ops@capstan.local').executeTakeFirstOrThrow();
    await trx
      .insertInto('staff_api_tokens')
      .values({ id: newId('stok'), staff_user_id: staff.id, name: 'demo', display_prefix: staffToken.slice(0, 15), secret_hash: hashSecret(staffToken) })
      .onConflict((conflict) => conflict.column('secret_hash').doNothing())
      .execute();
  });
  return { customerToken, staffToken };
}
