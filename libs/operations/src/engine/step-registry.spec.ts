import { Injectable, Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { OperationStepHandlers, type OperationStepProvider, StepRegistry } from './step-registry';

const noop = async () => undefined;

@Injectable()
@OperationStepHandlers()
class CompleteClusterSteps implements OperationStepProvider {
  stepSets() {
    return {
      create_cluster: {
        steps: Object.fromEntries(
          [
            'reserve_endpoint',
            'create_control_plane',
            'wait_control_plane_ready',
            'create_node_pools',
            'install_addons',
            'issue_admin_credentials',
            'mark_running',
          ].map((k) => [k, noop]),
        ),
      },
    };
  }
}

@Injectable()
@OperationStepHandlers()
class SloppyPoolSteps implements OperationStepProvider {
  stepSets() {
    // scale_node_pool forgets wait_nodes_ready.
    return { scale_node_pool: { steps: { resize_pool: noop, mark_running: noop } } };
  }
}

async function boot(...providers: (new () => OperationStepProvider)[]) {
  @Module({ imports: [DiscoveryModule], providers: [StepRegistry, ...providers] })
  class TestModule {}
  return NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
}

describe('StepRegistry', () => {
  it('refuses to boot when an enqueueable type has a step kind without a handler, naming each', async () => {
    const error = await boot(CompleteClusterSteps, SloppyPoolSteps).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toContain('scale_node_pool: wait_nodes_ready');
    expect(String(error)).toContain('delete_cluster: delete_node_pools');
    // Complete types are not named.
    expect(String(error)).not.toContain('create_cluster');
  });

  it('refuses two registrations of one type', async () => {
    @Injectable()
    @OperationStepHandlers()
    class AgainClusterSteps extends CompleteClusterSteps {}
    await expect(boot(CompleteClusterSteps, AgainClusterSteps)).rejects.toThrow(/create_cluster has step handlers registered twice for reserve_endpoint/);
  });

  it("lets a second library add step kinds to a type, but not replace one nor compensate another library's type", async () => {
    @Injectable()
    @OperationStepHandlers()
    class FirstHalf implements OperationStepProvider {
      stepSets() {
        const { create_cluster } = new CompleteClusterSteps().stepSets();
        const { mark_running: _, ...steps } = create_cluster.steps;
        return { create_cluster: { steps } };
      }
    }
    @Injectable()
    @OperationStepHandlers()
    class SecondHalf implements OperationStepProvider {
      stepSets() {
        return { create_cluster: { steps: { mark_running: noop } } };
      }
    }
    @Injectable()
    @OperationStepHandlers()
    class CompensatingHalf implements OperationStepProvider {
      stepSets() {
        return { create_cluster: { steps: { mark_running: noop }, compensate: async () => true } };
      }
    }
    const merged = await boot(FirstHalf, SecondHalf).catch((e: Error) => e);
    // Only the types nobody registered are missing: create_cluster is whole.
    expect(String(merged)).not.toContain('create_cluster');
    await expect(boot(FirstHalf, CompensatingHalf)).rejects.toThrow(/may only add step kinds/);
  });

  it('refuses a type that undoes its failures but cannot name what undoing may leave behind', async () => {
    @Injectable()
    @OperationStepHandlers()
    class LeakyClusterSteps extends CompleteClusterSteps {
      override stepSets() {
        const { create_cluster } = super.stepSets();
        return { create_cluster: { ...create_cluster, compensate: async () => true, compensateOnFailure: true } };
      }
    }
    await expect(boot(LeakyClusterSteps)).rejects.toThrow(/create_cluster compensates its failures but lacks compensate\(\) or leftovers\(\)/);
  });
});
