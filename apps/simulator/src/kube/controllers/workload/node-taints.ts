import type { ApiServerClient, ApiServerInfo, ControllerContext, EmulatedController } from '../../types';
import { NODE, sameJson } from './model';
import { withSchedulingTaint } from './nodes';
import { racing, reconcileScope } from './runtime';

/**
 * The node lifecycle controller's share that is not about readiness: a cordon
 * (`spec.unschedulable`) carries the `node.kubernetes.io/unschedulable:NoSchedule` taint.
 */
export const nodeTaintController: EmulatedController = {
  name: 'workload/node-taints',
  roles: ['workload'],
  async reconcile(server: ApiServerClient, _info: ApiServerInfo, context: ControllerContext) {
    if (!reconcileScope(server, context, ['Node'], 'workload/node-taints')) return;
    if (context.event?.type === 'DELETED') return;
    // The event's copy may be stale; patching taints from it could drop one added since.
    const current = context.event ? await server.get({ ...NODE, name: context.event.object.metadata.name }) : null;
    const nodes = context.event ? (current ? [current] : []) : await server.list(NODE.apiVersion, NODE.kind);
    for (const node of nodes) {
      const next = withSchedulingTaint(node, context.now());
      if (!sameJson(next.spec, node.spec)) {
        await racing(() =>
          server.mergePatch(
            { ...NODE, name: node.metadata.name },
            { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints: next.spec?.['taints'] ?? null } },
          ),
        );
      }
    }
  },
};
