// The runtime circuit (API.md "Outages") around the in-memory runtime: a call that gets no answer in
// time opens it, every call then fails at once without reaching the runtime, and a probe closes it
// again; an error answer is still an answer; methods of a runtime's own (Swarm's) are guarded too.
import { describe, expect, it } from 'vitest';
import { withCircuit } from '../../services/runtime/circuit.js';
import { createFakeRuntime } from '../../services/runtime/fake.js';
import { RuntimeUnavailable, type ContainerRuntime } from '../../services/runtime/types.js';

const quiet = { warn() {}, info() {} };

describe('runtime circuit', () => {
  it('opens on a call that gets no answer within the timeout, fails every call at once meanwhile, and closes on a probe', async () => {
    const fake = createFakeRuntime();
    let hang = false;
    const calls: string[] = [];
    const slow: ContainerRuntime = {
      ...fake,
      list: async (f) => {
        calls.push('list');
        if (hang) await new Promise((r) => setTimeout(r, 10_000));
        return fake.list(f);
      },
    };
    const c = withCircuit(slow, { timeoutMs: 100, probeIntervalMs: 60_000, log: quiet });
    try {
      expect(await c.ping()).toBe(true);
      expect(c.available()).toBe(true);
      hang = true;
      const t0 = performance.now();
      await expect(c.list([])).rejects.toBeInstanceOf(RuntimeUnavailable);
      expect(performance.now() - t0).toBeLessThan(1_000);
      expect(c.available()).toBe(false);
      const t1 = performance.now();
      await expect(c.list([])).rejects.toBeInstanceOf(RuntimeUnavailable);
      expect(performance.now() - t1).toBeLessThan(20);
      expect(calls).toEqual(['list']); // the second never reached the runtime
      hang = false;
      let reopened = 0;
      c.onReachable!(() => reopened++);
      expect(await c.ping()).toBe(true);
      await Promise.resolve();
      expect(c.available()).toBe(true);
      expect(reopened).toBe(1);
      expect(await c.list([])).toEqual([]);
    } finally {
      c.dispose();
    }
  });

  it('stays closed on an error answer, and opens on a connection failure', async () => {
    const fake = createFakeRuntime();
    const c = withCircuit(fake, { timeoutMs: 1_000, probeIntervalMs: 60_000, log: quiet });
    try {
      await c.ping();
      fake.failNext('inspect', Object.assign(new Error('server error'), { statusCode: 500 }));
      await expect(c.inspect('x')).rejects.toThrow('server error');
      expect(c.available()).toBe(true);
      fake.failNext('inspect');
      await expect(c.inspect('x')).rejects.toBeInstanceOf(RuntimeUnavailable);
      expect(c.available()).toBe(false);
    } finally {
      c.dispose();
    }
  });

  it("guards a runtime's own methods too, and asks the runtime's own verdict for available()", async () => {
    const fake = createFakeRuntime();
    let manager = true;
    const swarmish = { ...fake, available: () => manager && fake.available(), fleetHealth: async () => ['task'] };
    const c = withCircuit(swarmish, { timeoutMs: 1_000, probeIntervalMs: 60_000, log: quiet });
    try {
      await c.ping();
      expect(await c.fleetHealth()).toEqual(['task']);
      manager = false;
      expect(c.available()).toBe(false);
    } finally {
      c.dispose();
    }
  });
});
