import { newId, type PrismaService } from '@capstan/platform';
import { issueSecret, type StaffRole, type TokenScope } from '@capstan/tenancy';

export interface SeededOrganization {
  organizationId: string;
  /** A customer API token secret for this organisation. */
  token: string;
  tokenId: string;
}

/** An organisation with one API token, written straight to the database (test setup only). */
export async function seedOrganization(
  prisma: PrismaService,
  options: { name?: string; residency?: string; maxClusters?: number; maxNodes?: number; scopes?: TokenScope[]; expiresAt?: Date } = {},
): Promise<SeededOrganization> {
  const organizationId = newId('org');
  await prisma.organization.create({
    data: {
      id: organizationId,
      name: options.name ?? `org-${organizationId.slice(-8)}`,
      displayName: 'Test AG',
      residency: options.residency ?? 'CH',
      plan: 'standard',
      maxClusters: options.maxClusters ?? 10,
      maxNodes: options.maxNodes ?? 50,
    },
  });
  const { token, tokenId } = await seedToken(prisma, organizationId, options.scopes ?? ['read', 'write'], options.expiresAt);
  return { organizationId, token, tokenId };
}

export async function seedToken(prisma: PrismaService, organizationId: string, scopes: TokenScope[], expiresAt?: Date) {
  const issued = issueSecret('customer');
  const tokenId = newId('tok');
  await prisma.apiToken.create({
    data: { id: tokenId, organizationId, name: 'test', displayPrefix: issued.displayPrefix, secretHash: issued.secretHash, scopes, expiresAt, createdBy: 'test' },
  });
  return { token: issued.secret, tokenId };
}

export interface SeededStaff {
  staffUserId: string;
  token: string;
}

/** A staff user with a staff API token. */
export async function seedStaff(prisma: PrismaService, role: StaffRole = 'admin'): Promise<SeededStaff> {
  const staffUserId = newId('stf');
  await prisma.staffUser.create({ data: { id: staffUserId, email: `${staffUserId}@staff.test`, displayName: 'Test staff', role } });
  const issued = issueSecret('staff');
  await prisma.staffApiToken.create({
    data: { id: newId('stok'), staffUserId, name: 'test', displayPrefix: issued.displayPrefix, secretHash: issued.secretHash },
  });
  return { staffUserId, token: issued.secret };
}

/** A valid create-cluster body for the simulated catalogue (Swiss region, one small pool). */
export function clusterRequest(overrides: Record<string, unknown> = {}) {
  return {
    name: 'prod-zrh',
    provider: 'rke2',
    region: 'nine-cz41',
    node_pools: [{ name: 'default', machine_type: 'nine-standard-4', count: 3 }],
    ...overrides,
  };
}
