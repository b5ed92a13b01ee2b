// Task deaths as runtime events. A Swarm manager's event stream carries service and node events but
// no task events, and container events stay on each node; so the manager is polled (fleetHealth: two
// calls) and every task seen dead gets one `die` event, with its container's labels: a task that
// ended (failed, complete, rejected, shut down) while it was meant to run, or that the manager still
// calls running on a node that is no longer ready. The health loop handles these exactly as Docker's
// die events (OFFLINE, crash-loop count, restart). What was already dead when the stream opened is
// not reported: the reconcile that follows every (re)connect finds it, as for Docker.
import type { TaskHealth } from './swarm-model.js';
import type { EventStreamHandle, RuntimeEvent } from './types.js';

/** A task that is over, or cannot be running any more, although it was meant to run. */
export function isDeadTask(t: TaskHealth): boolean {
  // "remove": the service itself was removed (pause, restart, delete): not a death.
  if (t.desiredState === 'remove') return false;
  if (['complete', 'failed', 'rejected', 'shutdown', 'orphaned'].includes(t.state)) return true;
  return t.state === 'running' && t.nodeState !== 'ready';
}

export function deathEvent(t: TaskHealth): RuntimeEvent {
  const event: RuntimeEvent = { action: 'die', containerId: t.containerId ?? t.taskId, name: t.containerName, labels: t.labels };
  if (t.exitCode !== null) event.exitCode = t.exitCode;
  return event;
}

export async function openTaskDeathStream(
  fleetHealth: () => Promise<TaskHealth[]>,
  intervalMs: number,
  onEvent: (e: RuntimeEvent) => void,
  onError: (err: Error) => void,
  warn: (obj: object, msg?: string) => void,
): Promise<EventStreamHandle> {
  // The first listing is the baseline; its failure rejects, like a stream that cannot open.
  const reported = new Set((await fleetHealth()).filter(isDeadTask).map((t) => t.taskId));
  let closed = false;
  let timer: NodeJS.Timeout | null = null;

  async function poll(): Promise<void> {
    timer = null;
    let tasks: TaskHealth[];
    try {
      tasks = await fleetHealth();
    } catch (err) {
      if (!closed) {
        closed = true;
        onError(err instanceof Error ? err : new Error(String(err)));
      }
      return;
    }
    if (closed) return;
    const listed = new Set<string>();
    for (const t of tasks) {
      listed.add(t.taskId);
      if (!isDeadTask(t) || reported.has(t.taskId)) continue;
      reported.add(t.taskId);
      try {
        onEvent(deathEvent(t));
      } catch (err) {
        warn({ err, taskId: t.taskId }, 'runtime event handler threw');
      }
    }
    // Tasks the manager no longer lists (their service was removed) are forgotten.
    for (const id of reported) if (!listed.has(id)) reported.delete(id);
    schedule();
  }

  function schedule(): void {
    if (closed) return;
    timer = setTimeout(() => void poll(), intervalMs);
    timer.unref();
  }

  schedule();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
