import type { ResourceType } from './resources';
import type { KubeObject } from './types';

/**
 * `as=Table` answers: kube-apiserver's columns (its pkg/printers, `-o wide` ones at priority 1) for
 * the built-in kinds people look at most, NAME/AGE for
 * the rest, plus a CRD's `additionalPrinterColumns` (simple JSONPaths only: `.a.b`, `.a[0].b`,
 * `.a[?(@.type=="Ready")].status`).
 */
interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority?: number;
}

interface Shape {
  columns: Column[];
  cells(object: KubeObject): unknown[];
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
const ageColumn: Column = { name: 'Age', type: 'string', description: 'Time since the object was created.' };

type Condition = { type?: string; status?: string };
type ContainerStatus = { ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } };

/** Deployments', ReplicaSets', DaemonSets' and Jobs' `-o wide` columns. */
const templateColumns: Column[] = [
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.' },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.' },
  { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.' },
];

const SHAPES: Record<string, Shape> = {
  Node: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'Ready and scheduling state' },
      { name: 'Roles', type: 'string', description: 'Node roles' },
      ageColumn,
      { name: 'Version', type: 'string', description: 'Kubelet version' },
      { name: 'Internal-IP', type: 'string', priority: 1, description: 'The node InternalIP' },
      { name: 'External-IP', type: 'string', priority: 1, description: 'The node ExternalIP' },
      { name: 'OS-Image', type: 'string', priority: 1, description: 'The OS image reported by the node' },
      { name: 'Kernel-Version', type: 'string', priority: 1, description: 'The kernel version reported by the node' },
      { name: 'Container-Runtime', type: 'string', priority: 1, description: 'The container runtime reported by the node' },
    ],
    cells(node) {
      const conditions = ((node.status?.conditions as Condition[] | undefined) ?? []).filter((c) => c.type === 'Ready');
      const ready = conditions[0]?.status === 'True' ? 'Ready' : conditions.length === 0 ? 'Unknown' : 'NotReady';
      const state = [ready, ...(node.spec?.unschedulable ? ['SchedulingDisabled'] : [])].join(',');
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length))
        .sort();
      const info = (node.status?.nodeInfo ?? {}) as { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string };
      const addresses = (node.status?.addresses as { type?: string; address?: string }[] | undefined) ?? [];
      const address = (kind: string) => addresses.find((a) => a.type === kind)?.address ?? '<none>';
      return [
        node.metadata.name,
        state,
        roles.length > 0 ? roles.join(',') : '<none>',
        age(node),
        info.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
  Pod: {
    columns: [
      name,
      { name: 'Ready', type: 'string', description: 'Ready containers' },
      { name: 'Status', type: 'string', description: 'Phase or reason' },
      { name: 'Restarts', type: 'string', description: 'Container restarts' },
      ageColumn,
      { name: 'IP', type: 'string', priority: 1, description: 'Pod IP' },
      { name: 'Node', type: 'string', priority: 1, description: 'Node the pod runs on' },
      { name: 'Nominated Node', type: 'string', priority: 1, description: 'Node the scheduler nominated for preemption' },
      { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates met' },
    ],
    cells(pod) {
      const containers = ((pod.spec?.containers as unknown[] | undefined) ?? []).length;
      const statuses = (pod.status?.containerStatuses as ContainerStatus[] | undefined) ?? [];
      const ready = statuses.filter((s) => s.ready).length;
      const restarts = statuses.reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
      const waiting = statuses.map((s) => s.state?.waiting?.reason ?? s.state?.terminated?.reason).find((r) => r);
      const phase = pod.metadata.deletionTimestamp
        ? 'Terminating'
        : (waiting ?? (pod.status?.reason as string | undefined) ?? (pod.status?.phase as string | undefined) ?? 'Pending');
      return [
        pod.metadata.name,
        `${ready}/${containers}`,
        phase,
        restarts,
        age(pod),
        (pod.status?.podIP as string | undefined) ?? '<none>',
        (pod.spec?.nodeName as string | undefined) ?? '<none>',
        (pod.status?.nominatedNodeName as string | undefined) ?? '<none>',
        readinessGates(pod),
      ];
    },
  },
  Deployment: {
    columns: [
      name,
      { name: 'Ready', type: 'string', description: 'Ready replicas' },
      { name: 'Up-to-date', type: 'integer', description: 'Updated replicas' },
      { name: 'Available', type: 'integer', description: 'Available replicas' },
      ageColumn,
      ...templateColumns,
    ],
    cells(d) {
      const status = (d.status ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
      const wanted = (d.spec?.replicas as number | undefined) ?? 1;
      return [
        d.metadata.name,
        `${status.readyReplicas ?? 0}/${wanted}`,
        status.updatedReplicas ?? 0,
        status.availableReplicas ?? 0,
        age(d),
        ...templateCells(d),
      ];
    },
  },
  ReplicaSet: {
    columns: [
      name,
      { name: 'Desired', type: 'integer', description: 'Replicas wanted' },
      { name: 'Current', type: 'integer', description: 'Replicas running' },
      { name: 'Ready', type: 'integer', description: 'Ready replicas' },
      ageColumn,
      ...templateColumns,
    ],
    cells(rs) {
      const status = (rs.status ?? {}) as { replicas?: number; readyReplicas?: number };
      return [rs.metadata.name, (rs.spec?.replicas as number | undefined) ?? 1, status.replicas ?? 0, status.readyReplicas ?? 0, age(rs), ...templateCells(rs)];
    },
  },
  DaemonSet: {
    columns: [
      name,
      { name: 'Desired', type: 'integer', description: 'Nodes that should run the daemon pod' },
      { name: 'Current', type: 'integer', description: 'Nodes running at least one daemon pod' },
      { name: 'Ready', type: 'integer', description: 'Nodes with a ready daemon pod' },
      { name: 'Up-to-date', type: 'integer', description: 'Nodes running the updated daemon pod' },
      { name: 'Available', type: 'integer', description: 'Nodes with an available daemon pod' },
      { name: 'Node Selector', type: 'string', description: 'The node selector of the pod template' },
      ageColumn,
      ...templateColumns,
    ],
    cells(ds) {
      const status = (ds.status ?? {}) as Record<string, number | undefined>;
      const selector = ((ds.spec?.template as { spec?: { nodeSelector?: Record<string, string> } } | undefined)?.spec?.nodeSelector ?? {}) as Record<
        string,
        string
      >;
      const shown = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [
        ds.metadata.name,
        status['desiredNumberScheduled'] ?? 0,
        status['currentNumberScheduled'] ?? 0,
        status['numberReady'] ?? 0,
        status['updatedNumberScheduled'] ?? 0,
        status['numberAvailable'] ?? 0,
        shown || '<none>',
        age(ds),
        ...templateCells(ds),
      ];
    },
  },
  StatefulSet: {
    columns: [name, { name: 'Ready', type: 'string', description: 'Ready replicas' }, ageColumn, ...templateColumns.slice(0, 2)],
    cells(sts) {
      const ready = ((sts.status ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;
      return [sts.metadata.name, `${ready}/${(sts.spec?.replicas as number | undefined) ?? 1}`, age(sts), ...templateCells(sts).slice(0, 2)];
    },
  },
  Job: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'Status of the job' },
      { name: 'Completions', type: 'string', description: 'Succeeded pods of those wanted' },
      { name: 'Duration', type: 'string', description: 'How long the job ran' },
      ageColumn,
      ...templateColumns,
    ],
    cells(job) {
      const status = (job.status ?? {}) as { succeeded?: number; startTime?: string; completionTime?: string; conditions?: Condition[] };
      const done = (type: string) => (status.conditions ?? []).some((c) => c.type === type && c.status === 'True');
      const state = done('Complete') ? 'Complete' : done('Failed') ? 'Failed' : done('Suspended') ? 'Suspended' : 'Running';
      const completions = job.spec?.completions as number | undefined;
      const duration = status.startTime ? span(status.startTime, status.completionTime) : '';
      return [job.metadata.name, state, `${status.succeeded ?? 0}/${completions ?? 1}`, duration, age(job), ...templateCells(job)];
    },
  },
  Service: {
    columns: [
      name,
      { name: 'Type', type: 'string', description: 'The type of the service' },
      { name: 'Cluster-IP', type: 'string', description: 'The cluster IP of the service' },
      { name: 'External-IP', type: 'string', description: 'External IPs of the service' },
      { name: 'Port(s)', type: 'string', description: 'The ports of the service' },
      ageColumn,
      { name: 'Selector', type: 'string', priority: 1, description: 'The selector of the service' },
    ],
    cells(svc) {
      const spec = (svc.spec ?? {}) as {
        type?: string;
        clusterIP?: string;
        externalIPs?: string[];
        externalName?: string;
        ports?: { port?: number; nodePort?: number; protocol?: string }[];
        selector?: Record<string, string>;
      };
      const type = spec.type ?? 'ClusterIP';
      const ingress = ((svc.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []).map(
        (i) => i.ip ?? i.hostname,
      );
      const external =
        type === 'ExternalName'
          ? (spec.externalName ?? '<none>')
          : type === 'LoadBalancer'
            ? [...ingress, ...(spec.externalIPs ?? [])].join(',') || '<pending>'
            : (spec.externalIPs ?? []).join(',') || '<none>';
      const ports = (spec.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
      const selector = Object.entries(spec.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      return [svc.metadata.name, type, spec.clusterIP || '<none>', external, ports || '<none>', age(svc), selector || '<none>'];
    },
  },
  Endpoints: {
    columns: [name, { name: 'Endpoints', type: 'string', description: 'Endpoints of the service' }, ageColumn],
    cells(ep) {
      const subsets = (ep['subsets'] as { addresses?: { ip: string }[]; ports?: { port: number }[] }[] | undefined) ?? [];
      const all = subsets.flatMap((s) => (s.addresses ?? []).flatMap((a) => (s.ports?.length ? s.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])));
      const shown = all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
      return [ep.metadata.name, shown || '<none>', age(ep)];
    },
  },
  ConfigMap: {
    columns: [name, { name: 'Data', type: 'integer', description: 'Number of data entries' }, ageColumn],
    cells: (cm) => [cm.metadata.name, count(cm['data']) + count(cm['binaryData']), age(cm)],
  },
  Secret: {
    columns: [
      name,
      { name: 'Type', type: 'string', description: 'The type of the secret' },
      { name: 'Data', type: 'integer', description: 'Number of data entries' },
      ageColumn,
    ],
    cells: (secret) => [secret.metadata.name, (secret['type'] as string | undefined) ?? 'Opaque', count(secret['data']), age(secret)],
  },
  ServiceAccount: {
    columns: [name, { name: 'Secrets', type: 'string', description: 'Number of secrets' }, ageColumn],
    cells: (sa) => [sa.metadata.name, ((sa['secrets'] as unknown[] | undefined) ?? []).length, age(sa)],
  },
  PodDisruptionBudget: {
    columns: [
      name,
      { name: 'Min Available', type: 'string', description: 'The minimum number of pods that must be available' },
      { name: 'Max Unavailable', type: 'string', description: 'The maximum number of pods that may be unavailable' },
      { name: 'Allowed Disruptions', type: 'integer', description: 'Pod disruptions currently allowed' },
      ageColumn,
    ],
    cells(pdb) {
      const spec = (pdb.spec ?? {}) as { minAvailable?: number | string; maxUnavailable?: number | string };
      return [
        pdb.metadata.name,
        spec.minAvailable === undefined ? 'N/A' : String(spec.minAvailable),
        spec.maxUnavailable === undefined ? 'N/A' : String(spec.maxUnavailable),
        (pdb.status?.disruptionsAllowed as number | undefined) ?? 0,
        age(pdb),
      ];
    },
  },
  Event: {
    // No Name column first: kube-apiserver's event printer leads with LAST SEEN (Name is -o wide).
    columns: [
      { name: 'Last Seen', type: 'string', description: 'When the event was last observed' },
      { name: 'Type', type: 'string', description: 'Normal or Warning' },
      { name: 'Reason', type: 'string', description: 'Why the event was recorded' },
      { name: 'Object', type: 'string', description: 'The object the event is about' },
      { name: 'Subobject', type: 'string', priority: 1, description: 'The field path within the object' },
      { name: 'Source', type: 'string', priority: 1, description: 'The component that recorded it' },
      { name: 'Message', type: 'string', description: 'A human-readable description' },
      { name: 'First Seen', type: 'string', priority: 1, description: 'When the event was first observed' },
      { name: 'Count', type: 'string', priority: 1, description: 'How often it occurred' },
      { name: 'Name', type: 'string', priority: 1, description: 'The name of the event' },
    ],
    cells(ev) {
      // core/v1 (involvedObject, message, source, lastTimestamp) or events.k8s.io/v1 (regarding, note, reportingController, deprecated*).
      type Ref = { kind?: string; name?: string; fieldPath?: string };
      const e = ev as unknown as Record<string, unknown> & {
        involvedObject?: Ref;
        regarding?: Ref;
        source?: { component?: string; host?: string };
        series?: { count?: number; lastObservedTime?: string };
      };
      const target = e.involvedObject ?? e.regarding ?? {};
      const component = e.source?.component ?? (e['reportingController'] as string | undefined) ?? '';
      const host = e.source?.host ?? '';
      const last = e.series?.lastObservedTime ?? e['lastTimestamp'] ?? e['deprecatedLastTimestamp'] ?? e['eventTime'];
      const first = e['firstTimestamp'] ?? e['deprecatedFirstTimestamp'] ?? e['eventTime'];
      const times = e.series?.count ?? e['count'] ?? e['deprecatedCount'] ?? 1;
      return [
        relative(last) ?? '<unknown>',
        (e['type'] as string | undefined) ?? '',
        (e['reason'] as string | undefined) ?? '',
        `${(target.kind ?? '').toLowerCase()}/${target.name ?? ''}`,
        target.fieldPath ?? '',
        host ? `${component}, ${host}` : component,
        ((e['message'] ?? e['note']) as string | undefined) ?? '',
        relative(first) ?? '<unknown>',
        String(times as number),
        ev.metadata.name,
      ];
    },
  },
  EndpointSlice: {
    columns: [
      name,
      { name: 'AddressType', type: 'string', description: 'The type of address carried by the slice' },
      { name: 'Ports', type: 'string', description: 'The ports exposed' },
      { name: 'Endpoints', type: 'string', description: 'The addresses of the endpoints' },
      ageColumn,
    ],
    cells(slice) {
      const ports = ((slice['ports'] as { port?: number; name?: string }[] | undefined) ?? []).map((p) =>
        p.port !== undefined ? String(p.port) : (p.name ?? '*'),
      );
      const addresses = ((slice['endpoints'] as { addresses?: string[] }[] | undefined) ?? []).flatMap((e) => e.addresses ?? []);
      return [
        slice.metadata.name,
        (slice['addressType'] as string | undefined) ?? '',
        firstThree(ports) || '<unset>',
        firstThree(addresses) || '<unset>',
        age(slice),
      ];
    },
  },
  Lease: {
    columns: [name, { name: 'Holder', type: 'string', description: 'The holder of the lease' }, ageColumn],
    cells: (lease) => [lease.metadata.name, (lease.spec?.holderIdentity as string | undefined) ?? '', age(lease)],
  },
  CronJob: {
    columns: [
      name,
      { name: 'Schedule', type: 'string', description: 'The schedule in Cron format' },
      { name: 'Timezone', type: 'string', description: 'The time zone of the schedule' },
      { name: 'Suspend', type: 'boolean', description: 'Whether later runs are suspended' },
      { name: 'Active', type: 'integer', description: 'Jobs currently running' },
      { name: 'Last Schedule', type: 'string', description: 'When a job was last scheduled' },
      ageColumn,
      ...templateColumns,
    ],
    cells(cj) {
      const spec = (cj.spec ?? {}) as { schedule?: string; timeZone?: string; suspend?: boolean; jobTemplate?: { spec?: Record<string, unknown> } };
      const job = { metadata: cj.metadata, spec: spec.jobTemplate?.spec ?? {} } as KubeObject;
      return [
        cj.metadata.name,
        spec.schedule ?? '',
        spec.timeZone ?? '<none>',
        spec.suspend === undefined ? '<unset>' : spec.suspend ? 'True' : 'False',
        ((cj.status?.active as unknown[] | undefined) ?? []).length,
        relative(cj.status?.lastScheduleTime) ?? '<none>',
        age(cj),
        ...templateCells(job),
      ];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      name,
      { name: 'Reference', type: 'string', description: 'The scale target' },
      { name: 'Targets', type: 'string', description: 'Current and wanted metric values' },
      { name: 'MinPods', type: 'string', description: 'The lower limit of replicas' },
      { name: 'MaxPods', type: 'integer', description: 'The upper limit of replicas' },
      { name: 'Replicas', type: 'integer', description: 'Current replicas' },
      ageColumn,
    ],
    cells(hpa) {
      type Target = { type?: string; averageUtilization?: number; averageValue?: string; value?: string };
      type Metric = { type?: string; resource?: { name?: string; target?: Target } };
      const spec = (hpa.spec ?? {}) as {
        scaleTargetRef?: { kind?: string; name?: string };
        minReplicas?: number;
        maxReplicas?: number;
        metrics?: Metric[];
        targetCPUUtilizationPercentage?: number;
      };
      const wanted = (t: Target | undefined) => (t?.averageUtilization !== undefined ? `${t.averageUtilization}%` : (t?.averageValue ?? t?.value ?? '<unset>'));
      // No metrics API is emulated, so the current value is always <unknown>, as upstream before the first scrape.
      const metrics = (spec.metrics ?? []).map((m) =>
        m.type === 'Resource' ? `${m.resource?.name ?? ''}: <unknown>/${wanted(m.resource?.target)}` : `<unknown>/${wanted(undefined)}`,
      );
      // Neither metrics nor a v1 CPU target: upstream's defaulting makes it CPU at 80%.
      if (metrics.length === 0) metrics.push(`cpu: <unknown>/${spec.targetCPUUtilizationPercentage ?? 80}%`);
      const shown = metrics.length > 2 ? `${metrics.slice(0, 2).join(', ')} + ${metrics.length - 2} more...` : metrics.join(', ');
      return [
        hpa.metadata.name,
        `${spec.scaleTargetRef?.kind ?? ''}/${spec.scaleTargetRef?.name ?? ''}`,
        shown || '<none>',
        spec.minReplicas === undefined ? '<unset>' : String(spec.minReplicas),
        spec.maxReplicas ?? 0,
        (hpa.status?.currentReplicas as number | undefined) ?? 0,
        age(hpa),
      ];
    },
  },
  Ingress: {
    columns: [
      name,
      { name: 'Class', type: 'string', description: 'The ingress class' },
      { name: 'Hosts', type: 'string', description: 'Hosts that incoming requests are matched against' },
      { name: 'Address', type: 'string', description: 'Addresses of the load balancer' },
      { name: 'Ports', type: 'string', description: 'Ports of the load balancer' },
      ageColumn,
    ],
    cells(ing) {
      const spec = (ing.spec ?? {}) as { ingressClassName?: string; rules?: { host?: string }[]; tls?: unknown[] };
      const hosts = (spec.rules ?? []).map((r) => r.host || '*');
      const lb = ((ing.status?.loadBalancer as { ingress?: { ip?: string; hostname?: string }[] } | undefined)?.ingress ?? []).map((i) => i.ip || i.hostname);
      return [ing.metadata.name, spec.ingressClassName ?? '<none>', firstThree(hosts) || '*', lb.join(','), spec.tls?.length ? '80, 443' : '80', age(ing)];
    },
  },
  IngressClass: {
    columns: [
      name,
      { name: 'Controller', type: 'string', description: 'The controller implementing the class' },
      { name: 'Parameters', type: 'string', description: 'A reference to its parameters' },
      ageColumn,
    ],
    cells(ic) {
      const params = ic.spec?.parameters as { apiGroup?: string; kind?: string; name?: string } | undefined;
      const shown = params ? `${params.kind}.${params.apiGroup ?? ''}/${params.name}`.replace(/\.\//, '/') : '<none>';
      return [ic.metadata.name, (ic.spec?.controller as string | undefined) ?? '', shown, age(ic)];
    },
  },
  NetworkPolicy: {
    columns: [name, { name: 'Pod-Selector', type: 'string', description: 'The pods the policy applies to' }, ageColumn],
    cells: (np) => [np.metadata.name, selectorString(np.spec?.podSelector) || '<none>', age(np)],
  },
  ResourceQuota: {
    columns: [
      name,
      ageColumn,
      { name: 'Request', type: 'string', description: 'Used and hard request limits' },
      { name: 'Limit', type: 'string', description: 'Used and hard limits' },
    ],
    cells(quota) {
      const hard = (quota.status?.hard ?? {}) as Record<string, string>;
      const used = (quota.status?.used ?? {}) as Record<string, string>;
      const entries = Object.keys(hard)
        .sort()
        .map((k) => [k, `${k}: ${used[k] ?? '0'}/${hard[k]}`] as const);
      return [
        quota.metadata.name,
        age(quota),
        entries
          .filter(([k]) => !k.startsWith('limits.'))
          .map(([, v]) => v)
          .join(', '),
        entries
          .filter(([k]) => k.startsWith('limits.'))
          .map(([, v]) => v)
          .join(', '),
      ];
    },
  },
  LimitRange: {
    columns: [name, { name: 'Created At', type: 'date', description: 'When the object was created' }],
    cells: (lr) => [lr.metadata.name, lr.metadata.creationTimestamp ?? null],
  },
  PriorityClass: {
    columns: [
      name,
      { name: 'Value', type: 'integer', description: 'The priority of pods of this class' },
      { name: 'Global-Default', type: 'boolean', description: 'Whether pods without a class get this one' },
      ageColumn,
      { name: 'PreemptionPolicy', type: 'string', description: 'Whether its pods preempt lower ones' },
    ],
    cells: (pc) => [
      pc.metadata.name,
      (pc['value'] as number | undefined) ?? 0,
      Boolean(pc['globalDefault']),
      age(pc),
      (pc['preemptionPolicy'] as string | undefined) ?? '',
    ],
  },
  StorageClass: {
    columns: [
      name,
      { name: 'Provisioner', type: 'string', description: 'The provisioner of its volumes' },
      { name: 'ReclaimPolicy', type: 'string', description: 'What happens to a released volume' },
      { name: 'VolumeBindingMode', type: 'string', description: 'When volumes are bound' },
      { name: 'AllowVolumeExpansion', type: 'string', description: 'Whether claims may grow' },
      ageColumn,
    ],
    cells(sc) {
      const isDefault = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'].some(
        (a) => sc.metadata.annotations?.[a] === 'true',
      );
      return [
        isDefault ? `${sc.metadata.name} (default)` : sc.metadata.name,
        (sc['provisioner'] as string | undefined) ?? '',
        (sc['reclaimPolicy'] as string | undefined) ?? 'Delete',
        (sc['volumeBindingMode'] as string | undefined) ?? 'Immediate',
        String(Boolean(sc['allowVolumeExpansion'])),
        age(sc),
      ];
    },
  },
  PersistentVolumeClaim: {
    columns: [
      name,
      { name: 'Status', type: 'string', description: 'The phase of the claim' },
      { name: 'Volume', type: 'string', description: 'The volume bound to it' },
      { name: 'Capacity', type: 'string', description: 'The capacity of that volume' },
      { name: 'Access Modes', type: 'string', description: 'How the volume may be mounted' },
      { name: 'StorageClass', type: 'string', description: 'The class of storage asked for' },
      { name: 'VolumeAttributesClass', type: 'string', description: 'The volume attributes class' },
      ageColumn,
      { name: 'VolumeMode', type: 'string', priority: 1, description: 'Filesystem or Block' },
    ],
    cells(pvc) {
      const spec = (pvc.spec ?? {}) as { volumeName?: string; storageClassName?: string; volumeAttributesClassName?: string; volumeMode?: string };
      const bound = pvc.status?.phase === 'Bound';
      return [
        pvc.metadata.name,
        pvc.metadata.deletionTimestamp ? 'Terminating' : ((pvc.status?.phase as string | undefined) ?? ''),
        spec.volumeName ?? '',
        bound ? (((pvc.status?.capacity as Record<string, string> | undefined) ?? {})['storage'] ?? '') : '',
        bound ? accessModes(pvc.status?.accessModes) : '',
        spec.storageClassName ?? '<unset>',
        spec.volumeAttributesClassName ?? '<unset>',
        age(pvc),
        spec.volumeMode ?? '<unset>',
      ];
    },
  },
  PersistentVolume: {
    columns: [
      name,
      { name: 'Capacity', type: 'string', description: 'The size of the volume' },
      { name: 'Access Modes', type: 'string', description: 'How it may be mounted' },
      { name: 'Reclaim Policy', type: 'string', description: 'What happens to it once released' },
      { name: 'Status', type: 'string', description: 'The phase of the volume' },
      { name: 'Claim', type: 'string', description: 'The claim bound to it' },
      { name: 'StorageClass', type: 'string', description: 'Its class' },
      { name: 'VolumeAttributesClass', type: 'string', description: 'The volume attributes class' },
      { name: 'Reason', type: 'string', description: 'Why it is in that phase' },
      ageColumn,
      { name: 'VolumeMode', type: 'string', priority: 1, description: 'Filesystem or Block' },
    ],
    cells(pv) {
      const spec = (pv.spec ?? {}) as {
        capacity?: Record<string, string>;
        accessModes?: string[];
        persistentVolumeReclaimPolicy?: string;
        claimRef?: { namespace?: string; name?: string };
        storageClassName?: string;
        volumeAttributesClassName?: string;
        volumeMode?: string;
      };
      return [
        pv.metadata.name,
        spec.capacity?.['storage'] ?? '',
        accessModes(spec.accessModes),
        spec.persistentVolumeReclaimPolicy ?? '',
        pv.metadata.deletionTimestamp ? 'Terminating' : ((pv.status?.phase as string | undefined) ?? ''),
        spec.claimRef ? `${spec.claimRef.namespace}/${spec.claimRef.name}` : '',
        spec.storageClassName ?? '',
        spec.volumeAttributesClassName ?? '<unset>',
        (pv.status?.reason as string | undefined) ?? '',
        age(pv),
        spec.volumeMode ?? '<unset>',
      ];
    },
  },
  CustomResourceDefinition: {
    columns: [name, { name: 'Created At', type: 'date', description: 'When the definition was created' }],
    cells: (crd) => [crd.metadata.name, crd.metadata.creationTimestamp ?? null],
  },
  Namespace: {
    columns: [name, { name: 'Status', type: 'string', description: 'The phase of the namespace' }, ageColumn],
    cells: (ns) => [ns.metadata.name, (ns.status?.phase as string | undefined) ?? 'Active', age(ns)],
  },
};

function templateCells(object: KubeObject): string[] {
  const containers = ((object.spec?.template as { spec?: { containers?: { name?: string; image?: string }[] } } | undefined)?.spec?.containers ?? []) as {
    name?: string;
    image?: string;
  }[];
  const selector = (object.spec?.selector ?? {}) as {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  };
  const parts = [
    ...Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(selector.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ];
  return [containers.map((c) => c.name ?? '').join(','), containers.map((c) => c.image ?? '').join(','), parts.join(',') || '<none>'];
}

/** kubectl's list of at most three, then "+ N more...". */
function firstThree(items: string[]): string {
  return items.length > 3 ? `${items.slice(0, 3).join(',')} + ${items.length - 3} more...` : items.join(',');
}

const ACCESS_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

function accessModes(modes: unknown): string {
  return ((modes as string[] | undefined) ?? []).map((m) => ACCESS_MODES[m] ?? m).join(',');
}

/** A label selector as metav1.FormatLabelSelector writes it; '' when it selects everything. */
function selectorString(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  return [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) =>
      e.operator === 'Exists' ? e.key : e.operator === 'DoesNotExist' ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`,
    ),
  ].join(',');
}

function readinessGates(pod: KubeObject): string {
  const gates = (pod.spec?.readinessGates as { conditionType: string }[] | undefined) ?? [];
  if (gates.length === 0) return '<none>';
  const met = gates.filter((g) => ((pod.status?.conditions as Condition[] | undefined) ?? []).some((c) => c.type === g.conditionType && c.status === 'True'));
  return `${met.length}/${gates.length}`;
}

function count(value: unknown): number {
  return value && typeof value === 'object' ? Object.keys(value).length : 0;
}

/** A job's duration as kubectl prints it: 12s, 3m4s. */
function span(from: string, to: string | undefined): string {
  const seconds = Math.max(0, Math.floor(((to ? Date.parse(to) : Date.now()) - Date.parse(from)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

export function toTable(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
  extra: { continue?: string; remainingItemCount?: number } = {},
): unknown {
  const shape = SHAPES[type.kind] ?? genericShape(type);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...extra },
    columnDefinitions: shape.columns.map((column) => ({ format: '', priority: 0, ...column })),
    rows: objects.map((object) => ({ cells: shape.cells(object), object: partialMetadata(object) })),
  };
}

/** Rows carry PartialObjectMetadata, as kube-apiserver sends by default (`includeObject=Metadata`). */
function partialMetadata(object: KubeObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

function genericShape(type: ResourceType): Shape {
  const printer = type.printerColumns ?? [];
  return {
    columns: [
      name,
      ...printer.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
      ...(printer.some((c) => c.name.toLowerCase() === 'age') ? [] : [ageColumn]),
    ],
    cells: (object) => [
      object.metadata.name,
      ...printer.map((c) => (c.type === 'date' ? relative(jsonPath(object, c.jsonPath)) : (jsonPath(object, c.jsonPath) ?? null))),
      ...(printer.some((c) => c.name.toLowerCase() === 'age') ? [] : [age(object)]),
    ],
  };
}

/** The subset of JSONPath printer columns use: `.a.b`, `.a[0]`, `.a[?(@.k=="v")].b`. */
export function jsonPath(object: unknown, path: string): unknown {
  const tokens =
    path
      .replace(/^\{?\$?/, '')
      .replace(/\}$/, '')
      .match(/\.[^.[]+|\[\?\(@\.[^=]+==["'][^"']*["']\)\]|\[\d+\]/g) ?? [];
  let value: unknown = object;
  for (const token of tokens) {
    if (value === null || value === undefined) return undefined;
    const filter = /^\[\?\(@\.([^=]+)==["']([^"']*)["']\)\]$/.exec(token);
    if (filter) {
      value = Array.isArray(value) ? value.find((item) => (item as Record<string, unknown>)?.[filter[1]!] === filter[2]) : undefined;
    } else if (token.startsWith('[')) {
      value = Array.isArray(value) ? value[Number(token.slice(1, -1))] : undefined;
    } else {
      value = typeof value === 'object' ? (value as Record<string, unknown>)[token.slice(1)] : undefined;
    }
  }
  return value;
}

function age(object: KubeObject): string {
  return relative(object.metadata.creationTimestamp) ?? '<unknown>';
}

/** kubectl's short durations: 42s, 5m, 3h, 2d. */
function relative(since: unknown): string | undefined {
  if (typeof since !== 'string' || Number.isNaN(Date.parse(since))) return undefined;
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
