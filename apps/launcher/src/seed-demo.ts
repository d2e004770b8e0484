import { newId, type PrismaService } from '@capstan/platform';
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
export async function seedDemo(prisma: PrismaService, state: LocalState): Promise<DemoCredentials> {
  const customerToken = state.secret('demo-token', () => issueSecret('customer').secret);
  const staffToken = state.secret('staff-token', () => issueSecret('staff').secret);

  await prisma.$transaction(async (tx) => {
    const org =
      (await tx.organization.findUnique({ where: { name: 'demo' } })) ??
      (await tx.organization.create({
        data: { id: newId('org'), name: 'demo', displayName: 'Demo AG', residency: 'CH', plan: 'standard', maxClusters: 10, maxNodes: 50 },
      }));
    const customerHash = hashSecret(customerToken);
    if (!(await tx.apiToken.findUnique({ where: { secretHash: customerHash } }))) {
      await tx.apiToken.create({
        data: {
          id: newId('tok'),
          organizationId: org.id,
          name: 'demo',
          displayPrefix: customerToken.slice(0, 10),
          secretHash: customerHash,
          scopes: ['read', 'write'],
          createdBy: 'system:seed',
        },
      });
    }
    const staff =
      (await tx.staffUser.findUnique({ where: { email: 'ops@capstan.local' } })) ??
      (await tx.staffUser.create({ data: { id: newId('stf'), email: 'ops@capstan.local', displayName: 'Demo operator', role: 'admin' } }));
    const staffHash = hashSecret(staffToken);
    if (!(await tx.staffApiToken.findUnique({ where: { secretHash: staffHash } }))) {
      await tx.staffApiToken.create({
        data: { id: newId('stok'), staffUserId: staff.id, name: 'demo', displayPrefix: staffToken.slice(0, 15), secretHash: staffHash },
      });
    }
  });
  return { customerToken, staffToken };
}
