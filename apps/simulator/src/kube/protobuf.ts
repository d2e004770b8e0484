import { KubeApiError } from './types';

/**
 * Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), for
 * the few kinds kubectl 1.32 sends that way: its typed clients (`kubectl create namespace |
 * configmap | secret | serviceaccount | deployment` (the fields its generator sets), `kubectl
 * create token`, `kubectl drain`'s evictions, `kubectl auth whoami | can-i`'s reviews, `kubectl create service | job | cronjob | ingress | quota | priorityclass |
 * poddisruptionbudget | role | rolebinding | clusterrole | clusterrolebinding`, `kubectl autoscale`) always
 * write protobuf, without a JSON fallback. The envelope is `k8s\0` + runtime.Unknown{typeMeta,
 * raw}; field numbers are those of k8s.io/api's generated.proto. Other kinds answer 415.
 * Responses are always JSON, which those clients accept.
 */
type Fields = Map<number, (Buffer | bigint)[]>;

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (at >= buf.length) throw malformed();
    const byte = buf[at++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, at];
    shift += 7n;
  }
}

function malformed(): KubeApiError {
  return new KubeApiError(400, 'BadRequest', 'the protobuf request body is malformed');
}

/** Field number -> values (varints as bigint, length-delimited as Buffer); fixed-width fields are skipped. */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = readVarint(buf, at);
    at = next;
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: Buffer | bigint;
    if (wire === 0) {
      [value, at] = readVarint(buf, at);
    } else if (wire === 2) {
      const [length, start] = readVarint(buf, at);
      const end = start + Number(length);
      if (end > buf.length) throw malformed();
      value = buf.subarray(start, end);
      at = end;
    } else if (wire === 1) {
      at += 8;
      continue;
    } else if (wire === 5) {
      at += 4;
      continue;
    } else throw malformed();
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/** Go's generated marshallers write unset strings as ''; JSON would leave them out. */
const str = (f: Fields, n: number): string | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) && v.length > 0 ? v.toString('utf8') : undefined;
};
const strs = (f: Fields, n: number): string[] => (f.get(n) ?? []).filter(Buffer.isBuffer).map((b) => b.toString('utf8'));
const msg = (f: Fields, n: number): Fields | undefined => {
  const v = f.get(n)?.[0];
  return Buffer.isBuffer(v) ? fields(v) : undefined;
};
const msgs = (f: Fields, n: number): Fields[] => (f.get(n) ?? []).filter(Buffer.isBuffer).map(fields);
const int = (f: Fields, n: number): number | undefined => {
  const v = f.get(n)?.[0];
  return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : undefined;
};
const bool = (f: Fields, n: number): boolean | undefined => {
  const v = f.get(n)?.[0];
  return typeof v === 'bigint' ? v !== 0n : undefined;
};
function map(f: Fields, n: number, bytes = false): Record<string, string> | undefined {
  const entries = msgs(f, n);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map((e) => {
      const raw = e.get(2)?.[0];
      const value = Buffer.isBuffer(raw) ? (bytes ? raw.toString('base64') : raw.toString('utf8')) : '';
      return [str(e, 1) ?? '', value];
    }),
  );
}

/** Drops undefined fields, as JSON would not have them. */
function compact<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;
}

function objectMeta(f: Fields | undefined): Record<string, unknown> {
  if (!f) return {};
  return compact({
    name: str(f, 1) || undefined,
    generateName: str(f, 2) || undefined,
    namespace: str(f, 3) || undefined,
    uid: str(f, 5) || undefined,
    resourceVersion: str(f, 6) || undefined,
    labels: map(f, 11),
    annotations: map(f, 12),
    ownerReferences: msgs(f, 13).map((r) =>
      compact({ apiVersion: str(r, 5), kind: str(r, 1), name: str(r, 3), uid: str(r, 4), controller: bool(r, 6), blockOwnerDeletion: bool(r, 7) }),
    ),
    finalizers: strs(f, 14),
  });
}

function container(f: Fields): Record<string, unknown> {
  return compact({
    name: str(f, 1),
    image: str(f, 2),
    command: strs(f, 3),
    args: strs(f, 4),
    workingDir: str(f, 5),
    ports: msgs(f, 6).map((p) => compact({ name: str(p, 1), hostPort: int(p, 2) || undefined, containerPort: int(p, 3), protocol: str(p, 4) ?? 'TCP' })),
    env: msgs(f, 7).map((e) => compact({ name: str(e, 1), value: str(e, 2) })),
    resources: f.has(8) ? {} : undefined,
    imagePullPolicy: str(f, 14),
  });
}

/** The fields `kubectl create deployment` sets (replicas, selector, template with containers, strategy). */
function deployment(f: Fields): Record<string, unknown> {
  const spec = msg(f, 2) ?? new Map();
  const selector = msg(spec, 2);
  const template = msg(spec, 3);
  const podSpec = template ? msg(template, 2) : undefined;
  const strategy = msg(spec, 4);
  return compact({
    metadata: objectMeta(msg(f, 1)),
    spec: compact({
      replicas: int(spec, 1),
      selector: selector ? compact({ matchLabels: map(selector, 1) }) : undefined,
      template: template
        ? compact({
            metadata: objectMeta(msg(template, 1)),
            spec: podSpec
              ? compact({ containers: msgs(podSpec, 2).map(container), initContainers: msgs(podSpec, 20).map(container), nodeSelector: map(podSpec, 7) })
              : undefined,
          })
        : undefined,
      // kube-apiserver's default strategy, which `kubectl create deployment` leaves empty.
      strategy:
        strategy && str(strategy, 1) ? { type: str(strategy, 1) } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    }),
  });
}

/** authorization/v1 ResourceAttributes and NonResourceAttributes (`kubectl auth can-i`). */
function accessSpec(spec: Fields): Record<string, unknown> {
  const resource = msg(spec, 1);
  const nonResource = msg(spec, 2);
  return compact({
    resourceAttributes: resource
      ? compact({
          namespace: str(resource, 1),
          verb: str(resource, 2),
          group: str(resource, 3),
          version: str(resource, 4),
          resource: str(resource, 5),
          subresource: str(resource, 6),
          name: str(resource, 7),
        })
      : undefined,
    nonResourceAttributes: nonResource ? compact({ path: str(nonResource, 1), verb: str(nonResource, 2) }) : undefined,
  });
}

/** intstr.IntOrString: type 0 = intVal, 1 = strVal. */
function intOrString(f: Fields | undefined): number | string | undefined {
  if (!f) return undefined;
  return int(f, 1) === 1 ? (str(f, 3) ?? '') : (int(f, 2) ?? 0);
}

function labelSelector(f: Fields | undefined): Record<string, unknown> | undefined {
  if (!f) return undefined;
  return compact({
    matchLabels: map(f, 1),
    matchExpressions: msgs(f, 2).map((e) => compact({ key: str(e, 1), operator: str(e, 2), values: strs(e, 3) })),
  });
}

/** The pod template fields kubectl's generators set (`kubectl create job`): containers, restartPolicy, nodeSelector. */
function podTemplate(f: Fields | undefined): Record<string, unknown> | undefined {
  if (!f) return undefined;
  const spec = msg(f, 2);
  return compact({
    metadata: objectMeta(msg(f, 1)),
    spec: spec
      ? compact({
          containers: msgs(spec, 2).map(container),
          initContainers: msgs(spec, 20).map(container),
          restartPolicy: str(spec, 3),
          nodeSelector: map(spec, 7),
          serviceAccountName: str(spec, 8),
        })
      : undefined,
  });
}

const policyRule = (r: Fields) =>
  compact({ verbs: strs(r, 1), apiGroups: r.has(2) ? strs(r, 2) : undefined, resources: strs(r, 3), resourceNames: strs(r, 4), nonResourceURLs: strs(r, 5) });

const roleBinding = (f: Fields) => {
  const ref = msg(f, 3) ?? new Map();
  return compact({
    metadata: objectMeta(msg(f, 1)),
    subjects: msgs(f, 2).map((s) => compact({ kind: str(s, 1), apiGroup: str(s, 2), name: str(s, 3), namespace: str(s, 4) })),
    roleRef: { apiGroup: str(ref, 1) ?? '', kind: str(ref, 2), name: str(ref, 3) },
  });
};

/** batch/v1 JobSpec: the fields `kubectl create job|cronjob` set. */
function jobSpec(spec: Fields): Record<string, unknown> {
  return compact({
    parallelism: int(spec, 1),
    completions: int(spec, 2),
    activeDeadlineSeconds: int(spec, 3),
    selector: labelSelector(msg(spec, 4)),
    template: podTemplate(msg(spec, 6)),
    backoffLimit: int(spec, 7),
  });
}

/** networking/v1 IngressBackend: service (4: name, port {name, number}) or resource (3). */
function ingressBackend(f: Fields | undefined): Record<string, unknown> | undefined {
  if (!f) return undefined;
  const service = msg(f, 4);
  const port = service ? msg(service, 2) : undefined;
  const resource = msg(f, 3);
  return compact({
    service: service ? compact({ name: str(service, 1), port: port ? compact({ name: str(port, 1), number: int(port, 2) }) : undefined }) : undefined,
    resource: resource ? compact({ apiGroup: str(resource, 1), kind: str(resource, 2), name: str(resource, 3) }) : undefined,
  });
}

/** autoscaling CrossVersionObjectReference (kind, name, apiVersion). */
const scaleTarget = (f: Fields | undefined) => (f ? compact({ kind: str(f, 1), name: str(f, 2), apiVersion: str(f, 3) }) : undefined);

/** A map<string, resource.Quantity> (Quantity is `{ string = 1 }`). */
function quantities(f: Fields, n: number): Record<string, string> | undefined {
  const entries = msgs(f, n);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map((e) => [str(e, 1) ?? '', str(msg(e, 2) ?? new Map(), 1) ?? '']));
}

const DECODERS: Record<string, (f: Fields) => Record<string, unknown>> = {
  // kubectl create service clusterip|nodeport|loadbalancer|externalname, kubectl expose.
  'v1/Service': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({
        ports: msgs(spec, 1).map((p) =>
          compact({ name: str(p, 1), protocol: str(p, 2), port: int(p, 3), targetPort: intOrString(msg(p, 4)), nodePort: int(p, 5) || undefined }),
        ),
        selector: map(spec, 2),
        clusterIP: str(spec, 3),
        type: str(spec, 4),
        externalIPs: strs(spec, 5),
        sessionAffinity: str(spec, 7),
        externalName: str(spec, 10),
      }),
    });
  },
  // kubectl create job.
  'batch/v1/Job': (f) => compact({ metadata: objectMeta(msg(f, 1)), spec: jobSpec(msg(f, 2) ?? new Map()) }),
  // kubectl create cronjob.
  'batch/v1/CronJob': (f) => {
    const spec = msg(f, 2) ?? new Map();
    const template = msg(spec, 5);
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({
        schedule: str(spec, 1),
        startingDeadlineSeconds: int(spec, 2),
        concurrencyPolicy: str(spec, 3),
        suspend: bool(spec, 4),
        jobTemplate: template ? compact({ metadata: objectMeta(msg(template, 1)), spec: jobSpec(msg(template, 2) ?? new Map()) }) : undefined,
        successfulJobsHistoryLimit: int(spec, 6),
        failedJobsHistoryLimit: int(spec, 7),
        timeZone: str(spec, 8),
      }),
    });
  },
  // kubectl create ingress.
  'networking.k8s.io/v1/Ingress': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({
        defaultBackend: ingressBackend(msg(spec, 1)),
        tls: msgs(spec, 2).map((t) => compact({ hosts: strs(t, 1), secretName: str(t, 2) })),
        rules: msgs(spec, 3).map((r) => {
          const http = msg(msg(r, 2) ?? new Map(), 1);
          return compact({
            host: str(r, 1),
            http: http ? { paths: msgs(http, 1).map((p) => compact({ path: str(p, 1), pathType: str(p, 3), backend: ingressBackend(msg(p, 2)) })) } : undefined,
          });
        }),
        ingressClassName: str(spec, 4),
      }),
    });
  },
  // kubectl create quota.
  'v1/ResourceQuota': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({ metadata: objectMeta(msg(f, 1)), spec: compact({ hard: quantities(spec, 1), scopes: strs(spec, 2) }) });
  },
  // kubectl create priorityclass.
  'scheduling.k8s.io/v1/PriorityClass': (f) =>
    compact({
      metadata: objectMeta(msg(f, 1)),
      value: int(f, 2) ?? 0,
      globalDefault: bool(f, 3),
      description: str(f, 4),
      preemptionPolicy: str(f, 5),
    }),
  // kubectl autoscale (its typed autoscaling/v1 client).
  'autoscaling/v1/HorizontalPodAutoscaler': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({
        scaleTargetRef: scaleTarget(msg(spec, 1)),
        minReplicas: int(spec, 2),
        maxReplicas: int(spec, 3),
        targetCPUUtilizationPercentage: int(spec, 4),
      }),
    });
  },
  // kubectl create poddisruptionbudget.
  'policy/v1/PodDisruptionBudget': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({ minAvailable: intOrString(msg(spec, 1)), selector: labelSelector(msg(spec, 2)), maxUnavailable: intOrString(msg(spec, 3)) }),
    });
  },
  // kubectl create role|clusterrole|rolebinding|clusterrolebinding.
  'rbac.authorization.k8s.io/v1/Role': (f) => compact({ metadata: objectMeta(msg(f, 1)), rules: msgs(f, 2).map(policyRule) }),
  'rbac.authorization.k8s.io/v1/ClusterRole': (f) => compact({ metadata: objectMeta(msg(f, 1)), rules: msgs(f, 2).map(policyRule) }),
  'rbac.authorization.k8s.io/v1/RoleBinding': roleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': roleBinding,
  'authentication.k8s.io/v1/SelfSubjectReview': (f) => compact({ metadata: objectMeta(msg(f, 1)) }),
  'authentication.k8s.io/v1/TokenReview': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({ metadata: objectMeta(msg(f, 1)), spec: compact({ token: str(spec, 1), audiences: strs(spec, 2) }) });
  },
  'authorization.k8s.io/v1/SelfSubjectAccessReview': (f) => compact({ metadata: objectMeta(msg(f, 1)), spec: accessSpec(msg(f, 2) ?? new Map()) }),
  'authorization.k8s.io/v1/SubjectAccessReview': (f) => {
    const spec = msg(f, 2) ?? new Map();
    return compact({ metadata: objectMeta(msg(f, 1)), spec: compact({ ...accessSpec(spec), user: str(spec, 3), groups: strs(spec, 4), uid: str(spec, 6) }) });
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': (f) =>
    compact({ metadata: objectMeta(msg(f, 1)), spec: compact({ namespace: str(msg(f, 2) ?? new Map(), 1) }) }),
  'apps/v1/Deployment': deployment,
  'v1/Namespace': (f) => compact({ metadata: objectMeta(msg(f, 1)), spec: compact({ finalizers: strs(msg(f, 2) ?? new Map(), 1) }) }),
  'v1/ConfigMap': (f) => compact({ metadata: objectMeta(msg(f, 1)), data: map(f, 2), binaryData: map(f, 3, true), immutable: bool(f, 4) }),
  'v1/Secret': (f) => compact({ metadata: objectMeta(msg(f, 1)), data: map(f, 2, true), type: str(f, 3), stringData: map(f, 4), immutable: bool(f, 5) }),
  'v1/ServiceAccount': (f) =>
    compact({
      metadata: objectMeta(msg(f, 1)),
      secrets: msgs(f, 2).map((r) => compact({ kind: str(r, 1), namespace: str(r, 2), name: str(r, 3) })),
      imagePullSecrets: msgs(f, 3).map((r) => compact({ name: str(r, 1) })),
      automountServiceAccountToken: bool(f, 4),
    }),
  'authentication.k8s.io/v1/TokenRequest': (f) => {
    const spec = msg(f, 2) ?? new Map();
    const bound = msg(spec, 3);
    return compact({
      metadata: objectMeta(msg(f, 1)),
      spec: compact({
        audiences: strs(spec, 1),
        expirationSeconds: int(spec, 4),
        boundObjectRef: bound ? compact({ kind: str(bound, 1), apiVersion: str(bound, 2), name: str(bound, 3), uid: str(bound, 4) }) : undefined,
      }),
    });
  },
  'policy/v1/Eviction': (f) => {
    const options = msg(f, 2);
    return compact({
      metadata: objectMeta(msg(f, 1)),
      deleteOptions: options
        ? compact({
            gracePeriodSeconds: int(options, 1),
            propagationPolicy: str(options, 4),
            dryRun: strs(options, 5),
          })
        : undefined,
    });
  },
};

export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw malformed();
  const unknown = fields(body.subarray(4));
  const typeMeta = msg(unknown, 1) ?? new Map();
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  const decoder = DECODERS[`${apiVersion}/${kind}`];
  if (!decoder) {
    throw new KubeApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json (protobuf only for ${Object.keys(DECODERS).join(', ')})`,
    );
  }
  const raw = unknown.get(2)?.[0];
  return { apiVersion, kind, ...decoder(Buffer.isBuffer(raw) ? fields(raw) : new Map()) };
}
