// Regenerates this folder from upstream Kubernetes' OpenAPI v2 document (README.md says which).
// Usage: node refresh-openapi.mjs <swagger.json> ; then prettier over this folder.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const definitions = JSON.parse(readFileSync(process.argv[2], 'utf8')).definitions;

// The built-in kinds the emulator serves (src/kube/resources.ts) and the subresource kinds it answers with.
const KINDS = {
  v1: 'Namespace Node Pod Service Endpoints ConfigMap Secret ServiceAccount Event PersistentVolumeClaim PersistentVolume ResourceQuota LimitRange',
  'apps/v1': 'Deployment ReplicaSet DaemonSet StatefulSet',
  'policy/v1': 'PodDisruptionBudget Eviction',
  'batch/v1': 'Job CronJob',
  'autoscaling/v2': 'HorizontalPodAutoscaler',
  'autoscaling/v1': 'HorizontalPodAutoscaler Scale',
  'networking.k8s.io/v1': 'NetworkPolicy Ingress IngressClass',
  'discovery.k8s.io/v1': 'EndpointSlice',
  'events.k8s.io/v1': 'Event',
  'scheduling.k8s.io/v1': 'PriorityClass',
  'storage.k8s.io/v1': 'StorageClass',
  'coordination.k8s.io/v1': 'Lease',
  'apiextensions.k8s.io/v1': 'CustomResourceDefinition',
  'authentication.k8s.io/v1': 'TokenRequest SelfSubjectReview TokenReview',
  'authorization.k8s.io/v1': 'SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview',
  'flowcontrol.apiserver.k8s.io/v1': 'FlowSchema PriorityLevelConfiguration',
  'rbac.authorization.k8s.io/v1': 'Role RoleBinding ClusterRole ClusterRoleBinding',
};

const byGvk = new Map();
for (const [name, schema] of Object.entries(definitions)) {
  for (const g of schema['x-kubernetes-group-version-kind'] ?? []) byGvk.set(`${g.group ? `${g.group}/` : ''}${g.version}/${g.kind}`, name);
}
const index = {};
for (const [apiVersion, kinds] of Object.entries(KINDS)) {
  for (const kind of kinds.split(' ')) {
    const name = byGvk.get(`${apiVersion}/${kind}`);
    if (!name) throw new Error(`no definition for ${apiVersion} ${kind}`);
    index[`${apiVersion}/${kind}`] = name;
  }
}

// Every definition those kinds reach, one file per package (`io.k8s.api.apps.v1`), so a process loads only the packages asked for.
const kept = new Set();
const stack = Object.values(index);
while (stack.length > 0) {
  const name = stack.pop();
  if (kept.has(name)) continue;
  if (!definitions[name]) throw new Error(`dangling reference ${name}`);
  kept.add(name);
  for (const match of JSON.stringify(definitions[name]).matchAll(/#\/definitions\/([^"]+)/g)) stack.push(match[1]);
}
const packages = {};
for (const name of [...kept].sort()) {
  const pkg = name.slice(0, name.lastIndexOf('.'));
  (packages[pkg] ??= {})[name] = definitions[name];
}
for (const file of readdirSync(here)) if (file.endsWith('.json')) rmSync(join(here, file));
for (const [pkg, defs] of Object.entries(packages)) writeFileSync(join(here, `${pkg}.json`), JSON.stringify(defs));
writeFileSync(join(here, 'index.json'), JSON.stringify({ kinds: index, packages: Object.keys(packages) }));
console.log(`${kept.size} definitions in ${Object.keys(packages).length} packages`);
