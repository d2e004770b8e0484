#!/usr/bin/env node
// Regenerates the CRD data in this folder from the upstream repositories (bare git clones or work
// trees), keeping only the version the emulator serves. Usage:
//   node apps/simulator/src/kube/crds/refresh-crds.mjs <cluster-api git dir> <cluster-api-provider-rke2 git dir> <turtles git dir> <velero git dir>
// Then run prettier over the folder. Each file records where it came from (annotations below).
// Rancher Turtles' etcd snapshot and restore kinds (its experimental "day2" operations) were
// removed from turtles after v0.24; they are read from the last commit that had them.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const SERVED_VERSION = 'v1beta1';
const TURTLES_DAY2_COMMIT = 'cb6476e3c33e5b46e1930096185e7fef3cbcb4bd';
const here = dirname(fileURLToPath(import.meta.url));
const [capiDir, rke2Dir, turtlesDir, veleroDir] = process.argv.slice(2);
if (!capiDir || !rke2Dir || !turtlesDir || !veleroDir) {
  console.error('usage: refresh-crds.mjs <cluster-api git dir> <cluster-api-provider-rke2 git dir> <turtles git dir> <velero git dir>');
  process.exit(2);
}

const sources = [
  [capiDir, 'kubernetes-sigs/cluster-api', 'core/config/crd/bases/cluster.x-k8s.io_clusters.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'core/config/crd/bases/cluster.x-k8s.io_machinedeployments.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'core/config/crd/bases/cluster.x-k8s.io_machinesets.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'core/config/crd/bases/cluster.x-k8s.io_machines.yaml'],
  [rke2Dir, 'rancher/cluster-api-provider-rke2', 'controlplane/config/crd/bases/controlplane.cluster.x-k8s.io_rke2controlplanes.yaml'],
  [rke2Dir, 'rancher/cluster-api-provider-rke2', 'bootstrap/config/crd/bases/bootstrap.cluster.x-k8s.io_rke2configs.yaml'],
  [rke2Dir, 'rancher/cluster-api-provider-rke2', 'bootstrap/config/crd/bases/bootstrap.cluster.x-k8s.io_rke2configtemplates.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'test/infrastructure/docker/config/crd/bases/infrastructure.cluster.x-k8s.io_devclusters.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'test/infrastructure/docker/config/crd/bases/infrastructure.cluster.x-k8s.io_devmachines.yaml'],
  [capiDir, 'kubernetes-sigs/cluster-api', 'test/infrastructure/docker/config/crd/bases/infrastructure.cluster.x-k8s.io_devmachinetemplates.yaml'],
  [turtlesDir, 'rancher/turtles', 'exp/day2/config/crd/bases/turtles-capi.cattle.io_etcdmachinesnapshots.yaml', 'v1alpha1', TURTLES_DAY2_COMMIT],
  [turtlesDir, 'rancher/turtles', 'exp/day2/config/crd/bases/turtles-capi.cattle.io_etcdsnapshotrestores.yaml', 'v1alpha1', TURTLES_DAY2_COMMIT],
  // Velero's kinds live on workload clusters (installed with the velero add-on), in velero/.
  [veleroDir, 'vmware-tanzu/velero', 'config/crd/v1/bases/velero.io_backups.yaml', 'v1', 'HEAD', 'velero'],
  [veleroDir, 'vmware-tanzu/velero', 'config/crd/v1/bases/velero.io_restores.yaml', 'v1', 'HEAD', 'velero'],
  [veleroDir, 'vmware-tanzu/velero', 'config/crd/v1/bases/velero.io_deletebackuprequests.yaml', 'v1', 'HEAD', 'velero'],
];

for (const [dir, repo, path, served = SERVED_VERSION, at = 'HEAD', folder = '.'] of sources) {
  const git = (...args) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const commit = git('rev-parse', at).trim();
  const crd = parse(git('show', `${commit}:${path}`));
  const version = crd.spec.versions.find((v) => v.name === served);
  if (!version) throw new Error(`${path} has no ${served}`);
  // Upstream stores v1beta2 and converts through a webhook; served alone, v1beta1 is the storage
  // version and needs no conversion.
  delete version.deprecated;
  delete version.deprecationWarning;
  version.served = true;
  version.storage = true;
  delete crd.spec.conversion;
  crd.spec.versions = [version];
  crd.metadata.annotations = {
    ...crd.metadata.annotations,
    'simulator.capstan.dev/source': `https://github.com/${repo}/blob/${commit}/${path}`,
    'simulator.capstan.dev/license': 'Apache-2.0',
  };
  const file = `${crd.metadata.name}.json`;
  writeFileSync(join(here, folder, file), JSON.stringify(crd, null, 2) + '\n');
  console.log(`${file} <- ${repo}@${commit.slice(0, 12)} ${path}`);
}
