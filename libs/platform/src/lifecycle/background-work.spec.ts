import { BackgroundWork } from './background-work';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('BackgroundWork', () => {
  it('waits on stop for work that is in flight, and starts none after', async () => {
    const work = new BackgroundWork('test');
    let runs = 0;
    let finished = 0;
    work.every(5, 'loop', async () => {
      runs++;
      await sleep(40);
      finished++;
    });
    await sleep(20);
    const left = await work.stop(1_000);
    const runsAtStop = runs;
    await sleep(30);
    expect(left).toBe(0);
    expect(finished).toBe(runsAtStop);
    expect(runs).toBe(runsAtStop);
  });

  it('never runs one loop twice at once, however slow a run is', async () => {
    const work = new BackgroundWork('test');
    let concurrent = 0;
    let most = 0;
    work.every(2, 'slow', async () => {
      concurrent++;
      most = Math.max(most, concurrent);
      await sleep(25);
      concurrent--;
    });
    await sleep(80);
    await work.stop();
    expect(most).toBe(1);
  });

  it('gives up waiting after the grace period and says how much was left', async () => {
    const work = new BackgroundWork('test');
    void work.track(new Promise(() => undefined));
    expect(work.pending).toBe(1);
    expect(await work.stop(20)).toBe(1);
  });

  it('keeps a loop going after a run fails', async () => {
    const work = new BackgroundWork('test');
    let runs = 0;
    work.every(5, 'flaky', async () => {
      runs++;
      throw new Error('boom');
    });
    // Waits for the second run rather than a fixed time: timers run late on a loaded machine.
    for (let waited = 0; runs < 2 && waited < 5_000; waited += 10) await sleep(10);
    await work.stop();
    expect(runs).toBeGreaterThan(1);
  });

  it('does not wait for work tracked after stop began', async () => {
    const work = new BackgroundWork('test');
    const stopping = work.stop(1_000);
    expect(work.stopping).toBe(true);
    void work.track(new Promise(() => undefined));
    expect(await stopping).toBe(0);
  });
});
