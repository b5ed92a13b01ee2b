// Prometheus metrics of the HTTP layer, on this server's registry (one per server, so several
// servers can share a process in tests). Every label is bounded: routes are patterns, methods and
// GraphQL operation names are capped, so a hostile client cannot grow the series without limit.
import type pg from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const MAX_OPERATION_NAMES = 200;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface HttpMetrics {
  observe(route: string, method: string, status: number, seconds: number): void;
  observeGraphQL(operationName: unknown, status: number, seconds: number): void;
}

export function createHttpMetrics(registry: Registry, pool: pg.Pool): HttpMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: BUCKETS,
    registers,
  });
  const gqlRequests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL HTTP requests by operation name (anonymous, or other past the cap) and status',
    labelNames: ['operation', 'status'] as const,
    registers,
  });
  const gqlDuration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'GraphQL HTTP request latency by operation name',
    labelNames: ['operation'] as const,
    buckets: BUCKETS,
    registers,
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections: total, idle, and requests waiting for one',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });

  const seenOperations = new Set<string>();
  const operationLabel = (name: unknown): string => {
    if (name === undefined || name === null || name === '') return 'anonymous';
    if (typeof name !== 'string' || !OPERATION_NAME.test(name)) return 'other';
    if (seenOperations.has(name)) return name;
    if (seenOperations.size >= MAX_OPERATION_NAMES) return 'other';
    seenOperations.add(name);
    return name;
  };

  return {
    observe(route, method, status, seconds) {
      const labels = { route, method: METHODS.has(method) ? method : 'other', status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    observeGraphQL(operationName, status, seconds) {
      const operation = operationLabel(operationName);
      gqlRequests.inc({ operation, status: String(status) });
      gqlDuration.observe({ operation }, seconds);
    },
  };
}
