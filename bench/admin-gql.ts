// How the benchmarks talk to the server they start: one admin token, and a GraphQL POST that throws on
// errors (a benchmark must never measure a refused request).
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export const adminHeaders = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` };

export async function adminGql<T>(serverUrl: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${serverUrl}/graphql`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}
