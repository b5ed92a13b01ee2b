// Service updates and waiting on a service's task: the two things start and stop need.
import type Docker from 'dockerode';
import { errorMessage } from './docker-connection.js';
import { currentTask, isTerminal, type SwarmService, type SwarmServiceSpec, type SwarmTask } from './swarm-model.js';

const MAX_UPDATE_ATTEMPTS = 5;
const POLL_MS = 25;

export interface ServiceUpdater {
  /**
   * Applies `mutate` to the service's spec at the version it was read at. A concurrent change makes
   * the daemon answer 500 "update out of sequence": the service is read again and the change retried.
   */
  update(service: SwarmService, mutate: (spec: SwarmServiceSpec) => SwarmServiceSpec): Promise<void>;
}

export function createServiceUpdater(api: Docker): ServiceUpdater {
  return {
    async update(service, mutate) {
      let current = service;
      for (let attempt = 1; ; attempt++) {
        try {
          // _query/_body: dockerode would otherwise also put the whole spec in the query string.
          await api.getService(current.ID).update({ _query: { version: current.Version?.Index ?? 0 }, _body: mutate(current.Spec ?? {}) });
          return;
        } catch (err) {
          if (attempt >= MAX_UPDATE_ATTEMPTS || !/out of sequence/i.test(errorMessage(err))) throw err;
          current = (await api.getService(current.ID).inspect()) as SwarmService;
        }
      }
    }
  };
}

/** The task ended instead of running. statusCode 404 for a missing image, as Docker's start answers. */
export class SwarmTaskFailed extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SwarmTaskFailed';
  }
}

/**
 * Polls the service's tasks until its current task's container has started, as Docker's start
 * answers: a task that ran and already exited counts (its death is the event stream's business);
 * one that never got a container (rejected: no such image, no node; failed to start) throws
 * SwarmTaskFailed. Returns quietly at the deadline: a task still pending (no node with room yet, a
 * slow pull) is the sweeps' business from then on.
 */
export async function waitForRunning(api: Docker, serviceId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = currentTask((await api.listTasks({ filters: { service: [serviceId] } })) as SwarmTask[]);
    const state = t?.Status?.State ?? '';
    const why = t?.Status?.Err ?? '';
    if (state === 'running' || state === 'complete' || (state === 'failed' && /non-zero exit/.test(why))) return;
    if (isTerminal(state)) {
      throw new SwarmTaskFailed(/no such image/i.test(why) ? 404 : 500, `swarm task of ${serviceId} did not start: ${why || `task ${state}`}`);
    }
    if (Date.now() >= deadline) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
