import { plannedSteps, resolveVersionForCreate, VERSION_CATALOGUE } from '@capstan/domain';
import { newId, type PrismaService } from '@capstan/platform';
import { clusterRequest, seedOrganization, type SeededOrganization } from '../../libs/testing/src/fixtures';

/** Quotas far beyond anything a bench creates, so creates are never refused for quota. */
export const HUGE_QUOTA = { maxClusters: 1_000_000, maxNodes: 100_000_000 };

export interface SeededTenant extends SeededOrganization {
  clusterIds: string[];
  /** A cluster that has a maintenance window (every other seeded cluster has one). */
  clusterWithWindowId: string;
  /** The create_cluster operation of that cluster, with its planned steps. */
  operationId: string;
}

/**
 * An organisation with a customer token and `clusters` live clusters, each with one node pool,
 * every other one with a maintenance window, written straight with Prisma (the shape the API's
 * create would leave once provisioned).
 */
export async function seedTenant(prisma: PrismaService, clusters: number): Promise<SeededTenant> {
  const org = await seedOrganization(prisma, HUGE_QUOTA);
  const template = clusterRequest();
  const version = resolveVersionForCreate('rke2', undefined, new Date(), VERSION_CATALOGUE.entries).patch;
  const clusterIds: string[] = [];
  for (let i = 1; i <= clusters; i++) {
    const id = newId('cl');
    const name = `c-${String(i).padStart(3, '0')}`;
    await prisma.cluster.create({
      data: {
        id,
        organizationId: org.organizationId,
        name,
        liveName: name,
        provider: 'rke2',
        region: template.region,
        currentVersion: version,
        desiredVersion: version,
        status: 'running',
        endpoint: `https://${name}.${template.region}.example.net:6443`,
        labels: { env: i % 3 === 0 ? 'staging' : 'prod', team: 'payments' },
        nodePools: {
          create: [
            {
              id: newId('np'),
              organizationId: org.organizationId,
              name: 'default',
              liveName: 'default',
              machineType: 'nine-standard-4',
              nodeCount: 3,
              version,
              labels: { pool: 'default' },
              taints: [],
              status: 'running',
            },
          ],
        },
        ...(i % 2 === 1 ? { maintenanceWindow: { create: { timeZone: 'Europe/Zurich', days: ['SA', 'SU'], startTime: '02:00', durationMinutes: 240 } } } : {}),
      },
    });
    clusterIds.push(id);
  }
  const clusterWithWindowId = clusterIds[0]!;
  const operationId = newId('op');
  await prisma.operation.create({
    data: {
      id: operationId,
      organizationId: org.organizationId,
      clusterId: clusterWithWindowId,
      type: 'create_cluster',
      status: 'succeeded',
      progress: 100,
      targetType: 'cluster',
      targetId: clusterWithWindowId,
      params: { version },
      requestedByType: 'api_token',
      requestedById: org.tokenId,
      steps: {
        create: plannedSteps('create_cluster').map((name, position) => ({
          position,
          name,
          status: 'succeeded' as const,
          attempts: 1,
          startedAt: new Date(),
          finishedAt: new Date(),
        })),
      },
    },
  });
  return { ...org, clusterIds, clusterWithWindowId, operationId };
}
