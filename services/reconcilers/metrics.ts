// Prometheus metrics per loop, on this server's registry: ticks, errors, items acted on, duration,
// and whether this instance leads the loop.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface LoopMetrics {
  ticks: Counter<'loop'>;
  errors: Counter<'loop'>;
  items: Counter<'loop'>;
  duration: Histogram<'loop'>;
  leader: Gauge<'loop'>;
}

export function createLoopMetrics(registry: Registry): LoopMetrics {
  const registers = [registry];
  return {
    ticks: new Counter({ name: 'reconciler_ticks_total', help: 'Ticks a reconciler loop completed as leader', labelNames: ['loop'], registers }),
    errors: new Counter({
      name: 'reconciler_errors_total',
      help: 'Ticks of a reconciler loop that failed or could not run (e.g. no container runtime)',
      labelNames: ['loop'],
      registers,
    }),
    items: new Counter({ name: 'reconciler_items_total', help: 'Items a reconciler loop acted on', labelNames: ['loop'], registers }),
    duration: new Histogram({
      name: 'reconciler_tick_duration_seconds',
      help: 'Duration of a reconciler loop tick',
      labelNames: ['loop'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    leader: new Gauge({ name: 'reconciler_leader', help: '1 when this instance leads the loop', labelNames: ['loop'], registers }),
  };
}
