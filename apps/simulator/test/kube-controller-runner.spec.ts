import { ControllerRunner } from '../src/kube/controller-runner';
import type { KubeEmulatorRuntime } from '../src/kube/emulator';
import { silentLogger } from '../src/logger';
import type { ApiServerInfo, ChangeEvent, EmulatedController } from '../src';
import { startTestSimulator, type TestSimulator } from './harness';

async function eventually(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The runner calls controllers on events of their servers' roles and on ticks, and stop waits for runs in flight. */
describe('controller runner', () => {
  let sim: TestSimulator;
  let emulator: KubeEmulatorRuntime;

  beforeAll(async () => {
    sim = await startTestSimulator();
    emulator = sim.simulator.kube as KubeEmulatorRuntime;
    await emulator.ensureApiServer({ name: 'capstan-runner', role: 'workload', distribution: 'rke2', version: '1.34.2+rke2r1' });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('runs a controller on events of its role, on ticks, and waits for a run in flight on stop', async () => {
    const seen: { server: string; event: ChangeEvent | null }[] = [];
    let inFlight = 0;
    let finished = 0;
    const controller: EmulatedController = {
      name: 'recorder',
      roles: ['workload'],
      async reconcile(_server, info: ApiServerInfo, context) {
        inFlight++;
        seen.push({ server: info.name, event: context.event });
        await new Promise((resolve) => setTimeout(resolve, 100));
        inFlight--;
        finished++;
      },
    };
    const runner = new ControllerRunner({ emulator, controllers: [controller], stepDelayMs: 0, tickMs: 200, log: silentLogger });
    runner.start();
    try {
      await emulator.server('capstan-runner').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'poke', namespace: 'default' } });
      await emulator.server('management').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored', namespace: 'default' } });
      await eventually(() => seen.some((s) => s.event?.object.metadata.name === 'poke'));
      await eventually(() => seen.some((s) => s.event === null));
      expect(seen.every((s) => s.server === 'capstan-runner')).toBe(true);
      await eventually(() => inFlight > 0);
    } finally {
      await runner.stop();
    }
    expect(inFlight).toBe(0);
    const after = finished;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(finished).toBe(after);
  });

  it('coalesces the events that arrive during a run per kind, so a later event of another kind never hides one', async () => {
    // given a controller whose first run is slow, and which acts on HelmCharts only
    const kinds: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const controller: EmulatedController = {
      name: 'kinds',
      roles: ['workload'],
      ticks: true,
      async reconcile(_server, _info, context) {
        if (context.event) kinds.push(`${context.event.object.kind}/${context.event.object.metadata.name}`);
        if (kinds.length === 1) await held;
      },
    };
    const runner = new ControllerRunner({ emulator, controllers: [controller], stepDelayMs: 0, tickMs: 60_000, log: silentLogger });
    runner.start();
    const server = emulator.server('capstan-runner');
    try {
      await server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first', namespace: 'default' } });
      await eventually(() => kinds.length === 1);
      // when, during that run, a Secret, then two ConfigMaps and then another Secret change
      await server.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'default' } });
      await server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1', namespace: 'default' } });
      await server.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c2', namespace: 'default' } });
      await server.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: 'default' } });
      release();
      // then one more run per kind, each with its latest event: the ConfigMaps are not hidden by the last Secret
      await eventually(() => kinds.length >= 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(kinds).toEqual(['ConfigMap/first', 'ConfigMap/c2', 'Secret/s2']);
    } finally {
      release();
      await runner.stop();
    }
  });
});
