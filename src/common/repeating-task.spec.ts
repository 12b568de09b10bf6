import { SchedulerRegistry } from '@nestjs/schedule';
import { RepeatingTask } from './repeating-task';

describe('RepeatingTask', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('never overlaps runs, reports a failure and runs again, and stop() waits for the run', async () => {
    const scheduler = new SchedulerRegistry();
    let release: (() => void) | undefined;
    let runs = 0;
    const errors: unknown[] = [];
    const task = new RepeatingTask(
      scheduler,
      'test-task',
      100,
      () => {
        runs += 1;
        if (runs === 1) return Promise.reject(new Error('first run fails'));
        return new Promise<void>((resolve) => (release = resolve));
      },
      (error) => errors.push(error),
    );
    task.start();
    expect(scheduler.doesExist('interval', 'test-task')).toBe(true);

    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    expect(errors).toEqual([new Error('first run fails')]);

    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    // The second run has not finished: later ticks are skipped, not stacked.
    await jest.advanceTimersByTimeAsync(500);
    expect(runs).toBe(2);

    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release!();
    await stopping;
    expect(stopped).toBe(true);
    expect(scheduler.doesExist('interval', 'test-task')).toBe(false);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
  });
});
