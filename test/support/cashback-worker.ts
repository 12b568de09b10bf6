import { ScheduledCreditsWorker } from '../../src/ledger/scheduled-credits.worker';
import type { TestApp } from './test-app';

/** The app's background cashback worker, to run by hand. */
export function worker(t: TestApp): ScheduledCreditsWorker {
  return t.app.get(ScheduledCreditsWorker);
}

/** Runs a worker batch after batch until a run finds nothing due. */
export async function drain(t: TestApp): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const run = await worker(t).runOnce();
    if (run.accounts === 0) return;
  }
  throw new Error('the cashback worker did not drain the due cashbacks');
}
