import { afterEach, describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/config/agent-config.js';
import { cronSchedule, type Schedule } from '../../src/reconciler/schedule.js';
import { until } from '../support/run.js';

describe('cron schedule (node-cron)', () => {
  let schedule: Schedule | undefined;
  afterEach(() => schedule?.stop());

  it('wakes the loop on every tick of the expression', async () => {
    let ticks = 0;
    schedule = cronSchedule('* * * * * *', () => ticks++);
    expect(schedule.periodMs).toBe(1000);
    await until('two ticks', () => (ticks >= 2 ? true : undefined), 10_000, 50);
    schedule.stop();
    const stopped = ticks;
    // A witness on the same expression: once it has ticked twice, a whole period has passed for sure.
    let witnessed = 0;
    const witness = cronSchedule('* * * * * *', () => witnessed++);
    await until('the witness to tick twice', () => (witnessed >= 2 ? true : undefined), 10_000, 50);
    witness.stop();
    expect(ticks).toBe(stopped);
  });

  it('knows its period and refuses what is not cron', () => {
    schedule = cronSchedule('*/2 * * * *', () => undefined);
    expect(schedule.periodMs).toBe(120_000);
    expect(cronProblem('*/2 * * * *')).toBeUndefined();
    expect(cronProblem('every day')).toBe('"every day" is not a cron expression');
  });
});
