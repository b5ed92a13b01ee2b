// Following a workspace service's output (GET /services/:id/logs?follow=1) until its task is over.
// Unlike a container's log body, which Docker ends when the container stops, the manager keeps a
// followed service log open for as long as the service could ever have a task again: it does not end
// when the task stops (scale to zero), when the service is removed, nor when the node that runs the
// task goes down (measured: the body stays open, silent, until the client gives up). So the task is
// watched beside the stream, with one light poll (the service's tasks, then the task's node) every
// `pollMs`, and the body is closed, which ends the follower through its own onEnd, when:
//   - the followed task is over (complete, failed, shut down, ...) or gone (scaled down: Swarm deletes
//     the task), or the service is gone (no tasks at all): after the output has been quiet for
//     QUIET_MS (at most MAX_DRAIN_MS), so the last lines the task wrote (the agent's "stopping") and a
//     tail still on its way from another node are delivered first;
//   - the task's node is no longer ready (down, disconnected, removed): at once, nothing more can come
//     from a node the manager cannot reach, and the manager itself would still call the task running.
// The followed task is the service's current one when the stream opens (a task that is pending then
// is followed once it runs). A service with no task at all ends at once with nothing, as a container
// that does not run would.
import type Docker from 'dockerode';
import { followLogBody, followOptions, type LogBody } from './docker-logs.js';
import { errorMessage, statusOf } from './docker-connection.js';
import { currentTask, isTerminal, type SwarmTask } from './swarm-model.js';
import type { SwarmNode } from './swarm-placement.js';
import type { LogFollower, LogLine } from './types.js';

/** Default watch cadence: a stop or a removal ends the stream within about this long plus QUIET_MS. */
export const LOG_WATCH_POLL_MS = 1_000;
/** Output quiet this long after the task is over: nothing more is on its way. */
const QUIET_MS = 300;
const MAX_DRAIN_MS = 2_000;
/** Consecutive failed polls (the manager does not answer) after which the stream ends with the error. */
const MAX_POLL_FAILURES = 3;

type Verdict = 'following' | 'over' | 'node-lost';

/** What one poll says about the followed task. `followed` is the task id chosen at the first poll. */
async function watchTask(api: Docker, serviceId: string, followed: { taskId: string | null }): Promise<Verdict> {
  let tasks: SwarmTask[];
  try {
    tasks = (await api.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[];
  } catch (err) {
    if (statusOf(err) === 404) return 'over'; // the service was removed
    throw err;
  }
  if (followed.taskId === null) followed.taskId = currentTask(tasks)?.ID ?? '';
  const task = tasks.find((t) => t.ID === followed.taskId);
  if (!task || isTerminal(task.Status?.State ?? '')) return 'over';
  if (!task.NodeID) return 'following'; // not yet scheduled
  let node: SwarmNode | null;
  try {
    node = (await api.getNode(task.NodeID).inspect()) as SwarmNode;
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
    node = null;
  }
  return node?.Status?.State === 'ready' ? 'following' : 'node-lost';
}

export interface ServiceLogOptions {
  /** Short calls (the watch). */
  api: Docker;
  /** The client without an idle timeout that holds the followed body. */
  streamApi: Docker;
  pollMs?: number;
}

export async function followServiceLogs(
  opts: ServiceLogOptions,
  serviceId: string,
  tail: number,
  onLine: (line: LogLine) => void,
  onEnd: (err?: Error) => void,
): Promise<LogFollower | null> {
  const pollMs = opts.pollMs ?? LOG_WATCH_POLL_MS;
  const opened: { body?: LogBody } = {};
  let lastDataAt = Date.now();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const stopWatch = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = null;
  };

  const follower = await followLogBody(
    async () => {
      opened.body = (await opts.streamApi.getService(serviceId).logs(followOptions(tail))) as unknown as LogBody;
      return opened.body;
    },
    onLine,
    (err) => {
      stopWatch();
      onEnd(err);
    },
  );
  if (!follower) return null;
  // (Attached after followLogBody's own reader, so that no listener puts the body in flowing mode first.)
  opened.body?.on('data', () => (lastDataAt = Date.now()));

  /**
   * Ends the output the way the body ending would (followLogBody flushes a last unterminated line, then
   * calls onEnd once): destroying the body closes it. An error is handed on as the body's error.
   */
  const end = (err?: Error) => {
    if (stopped) return;
    stopWatch();
    opened.body?.destroy(err);
  };

  const drainThenEnd = (overAt: number) => {
    if (stopped) return;
    const now = Date.now();
    const quietFor = now - lastDataAt;
    if (quietFor >= QUIET_MS || now - overAt >= MAX_DRAIN_MS) return end();
    timer = setTimeout(() => drainThenEnd(overAt), Math.min(QUIET_MS - quietFor, MAX_DRAIN_MS - (now - overAt)));
  };

  const followed = { taskId: null as string | null };
  let failures = 0;
  const poll = async () => {
    timer = null;
    let verdict: Verdict;
    try {
      verdict = await watchTask(opts.api, serviceId, followed);
      failures = 0;
    } catch (err) {
      if (stopped) return;
      failures += 1;
      if (failures >= MAX_POLL_FAILURES) return end(new Error(`swarm logs of ${serviceId}: the task cannot be watched: ${errorMessage(err)}`));
      timer = setTimeout(() => void poll(), pollMs);
      return;
    }
    if (stopped) return;
    if (verdict === 'node-lost') return end();
    if (verdict === 'over') return drainThenEnd(Date.now());
    timer = setTimeout(() => void poll(), pollMs);
  };
  void poll();

  return {
    close() {
      stopWatch();
      follower.close();
    },
  };
}
