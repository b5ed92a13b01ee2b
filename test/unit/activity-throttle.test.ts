// The pacing of workspaceActivity sends (services/activity/throttle.ts) on a fake clock: first sends on
// a quarter-interval grid, then at most one send per key per interval measured from send to send, a
// change during a send's read sent one interval after it, and keys sent together kept together.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SendThrottle } from '../../services/activity/throttle.js';

describe('SendThrottle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(10_000);
  });
  afterEach(() => vi.useRealTimers());

  function recorder(readMs = 0) {
    const sends: Array<{ at: number; keys: string[] }> = [];
    const throttle = new SendThrottle({
      intervalMs: 1000,
      send: async (keys) => {
        if (readMs) await new Promise((r) => setTimeout(r, readMs));
        sends.push({ at: Date.now(), keys: [...keys].sort() });
      },
    });
    return { sends, throttle };
  }

  it('sends a first change at the next quarter-interval grid point, with everything marked before it', async () => {
    const { sends, throttle } = recorder();
    vi.setSystemTime(10_010);
    throttle.mark('a');
    await vi.advanceTimersByTimeAsync(100);
    throttle.mark('b');
    await vi.advanceTimersByTimeAsync(200);
    expect(sends).toEqual([{ at: 10_250, keys: ['a', 'b'] }]);
  });

  it('sends a key at most once per interval however often it is marked, and again once marked after', async () => {
    const { sends, throttle } = recorder();
    for (let t = 0; t < 3000; t += 10) {
      throttle.mark('a');
      await vi.advanceTimersByTimeAsync(10);
    }
    const at = sends.map((s) => s.at);
    expect(at).toEqual([10_250, 11_250, 12_250]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(sends).toHaveLength(4); // the marks after 12,250 are sent once, at 13,250
    // Long after: on the grid again.
    throttle.mark('a');
    await vi.advanceTimersByTimeAsync(300);
    expect(sends.at(-1)!.at).toBe(18_250);
  });

  it('measures the interval from the end of one send to the next, and sends a change made during a read after it', async () => {
    const { sends, throttle } = recorder(120);
    throttle.mark('a');
    await vi.advanceTimersByTimeAsync(300); // due at 10,250, being read until 10,370
    expect(sends).toEqual([]);
    throttle.mark('a'); // changed during the read: not in what is being sent
    await vi.advanceTimersByTimeAsync(100);
    expect(sends).toEqual([{ at: 10_370, keys: ['a'] }]);
    await vi.advanceTimersByTimeAsync(1200); // next due at 11,370, read until 11,490
    expect(sends.map((s) => s.at)).toEqual([10_370, 11_490]);
  });

  it('keeps keys sent together on the same schedule', async () => {
    const { sends, throttle } = recorder();
    for (let t = 0; t < 2600; t += 7) {
      for (const k of ['a', 'b', 'c']) throttle.mark(k);
      await vi.advanceTimersByTimeAsync(7);
    }
    expect(sends.map((s) => s.keys)).toEqual([
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
      ['a', 'b', 'c'],
    ]);
  });

  it('sends nothing after stop', async () => {
    const { sends, throttle } = recorder();
    throttle.mark('a');
    throttle.stop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(sends).toEqual([]);
  });
});
