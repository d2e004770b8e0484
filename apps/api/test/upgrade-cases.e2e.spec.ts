import { externalClusterName } from '@capstan/providers';
import { DriverSuite, onDriverStack } from './driver-suite';

/**
 * Upgrade cases through the API on the real drivers (docs/upgrades.md, "When an upgrade fails"):
 * a failed control-plane hop is not rolled back by Capstan. Kubernetes does not downgrade an API
 * server (kubernetes.io/releases/version-skew-policy); only a restore of the etcd snapshot taken
 * before the hop takes it back (docs.rke2.io/datastore/backup_restore, `--cluster-reset`).
 */
describe('upgrade cases through the API', () => {
  const h = onDriverStack(new DriverSuite(240_000), 'capstan-upgrade-cases-');

  it('refuses to roll back a failed control-plane hop with a 409 naming the rule and the backup before the hop', async () => {
    // given a GKE cluster whose control-plane upgrade fails at the provider
    await h.stack.database
      .updateTable('kubernetes_versions')
      .set({ maintenance_at: null, standard_support_ends_at: null, end_of_support_at: new Date('2099-01-01') })
      .where('provider', '=', 'gke')
      .where('minor', 'in', ['1.34', '1.35'])
      .execute();
    const clusterId = await h.createCluster('gke', 'cp-fails', '1.34', ['apps']);
    const hop = await h.patchOf('gke', '1.35');
    const faults = `${h.stack.simulator.apiUrl}/v1/chaos/faults`;
    const auth = { authorization: `Bearer ${h.stack.env.SIMULATOR_API_TOKEN}` };
    const armed = await fetch(faults, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ match: { call: 'gke.clusters.updateMaster', cluster: externalClusterName(clusterId) }, mode: 'fail_always', retryable: false }),
    });
    expect(armed.status).toBe(201);
    // when it is upgraded one minor
    const accepted = await h.client.POST('/v1/clusters/{cluster_id}/upgrade', { params: { path: { cluster_id: clusterId } }, body: { version: '1.35' } });
    expect(accepted.response.status).toBe(202);
    const failed = await h.finished(accepted.data!.operation.id);
    await fetch(faults, { method: 'DELETE', headers: auth });
    // then the hop failed after its backup step, and nothing else moved
    expect(failed).toMatchObject({ status: 'failed', error: { step: `upgrade_control_plane:${hop}` } });
    const stepNames = failed.steps.map((s: { name: string; status: string }) => `${s.name}=${s.status}`);
    expect(stepNames.slice(0, 3)).toEqual(['preflight_removed_apis=succeeded', `backup_before_hop:${hop}=succeeded`, `upgrade_control_plane:${hop}=failed`]);
    const cluster = await h.getCluster(clusterId);
    expect(cluster).toMatchObject({ status: 'running', desired_version: cluster.current_version });
    // and its rollback is refused: a control plane goes back only by restoring the backup taken before the hop
    const rollback = await h.client.POST('/v1/operations/{operation_id}/rollback', { params: { path: { operation_id: accepted.data!.operation.id } } });
    expect(rollback.response.status).toBe(409);
    expect(rollback.response.headers.get('content-type')).toContain('application/problem+json');
    expect(rollback.error).toMatchObject({
      type: expect.stringContaining('control-plane-not-rolled-back'),
      rule: 'a control plane goes back only by restoring the backup taken before its hop',
      backup_before_hop: expect.objectContaining({ step: `backup_before_hop:${hop}` }),
    });
  }, 420_000);
});
