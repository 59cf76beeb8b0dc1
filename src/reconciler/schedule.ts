// Cron-style polling (node-cron): each tick of the expression wakes the loop, instead of a fixed
// interval. A webhook, a sync and the backoff after a failed pass still work as with an interval.
import cron from 'node-cron';

export interface Schedule {
  /** About how long between two ticks, for the stale alarm. */
  periodMs: number;
  stop(): void;
}

export function cronSchedule(expression: string, tick: () => void): Schedule {
  const task = cron.schedule(expression, () => tick(), { name: 'switchyard-poll' });
  const [a, b] = task.getNextRuns(2);
  return {
    periodMs: a && b ? b.getTime() - a.getTime() : 60_000,
    stop: () => void task.stop(),
  };
}

