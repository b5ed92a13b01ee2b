// /health (the process answers), /ready (the database answers), /metrics (Prometheus text). None of
// them needs a credential (API.md).
import type { ServerResponse } from 'node:http';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { sendError, sendJson } from './respond.js';

const READY_TIMEOUT_MS = 2_000;

/** SELECT 1 within a short timeout: a hung or unreachable database must turn /ready 503 quickly, not
 * after the pool's connection timeout. */
export async function databaseAnswers(pool: pg.Pool, timeoutMs = READY_TIMEOUT_MS): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = pool.query('/* readinessProbe */ SELECT 1').then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sendHealth(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

/** 503 within DATABASE_TIMEOUT_MS (or sooner) when the database hangs or is gone. */
export async function sendReady(res: ServerResponse, pool: pg.Pool, databaseTimeoutMs = READY_TIMEOUT_MS): Promise<void> {
  if (await databaseAnswers(pool, Math.min(READY_TIMEOUT_MS, databaseTimeoutMs))) sendJson(res, 200, { status: 'ready' });
  else sendError(res, 503, 'database is not answering', { 'retry-after': '1' });
}

export async function sendMetrics(res: ServerResponse, registry: Registry): Promise<void> {
  try {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
  } catch {
    sendError(res, 500, 'metrics unavailable');
  }
}
