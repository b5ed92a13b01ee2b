// Small helpers over the typed documents, for the integration tests.
import { expect } from 'vitest';
import type { TestServer } from '../support/server.js';
import {
  CreateWorkspaceDocument,
  CreateWorkspaceTokenDocument,
  type CreateWorkspaceInput,
  type WorkspaceFieldsFragment,
} from '../generated/graphql.js';
import { run } from './client.js';

export async function createWorkspace(
  s: TestServer,
  input: Partial<CreateWorkspaceInput> = {},
): Promise<{ workspace: WorkspaceFieldsFragment; token: string | null }> {
  const r = await run(s, CreateWorkspaceDocument, { input: { name: 'ws', ...input } });
  const res = r.data.createWorkspace;
  if (res.__typename !== 'CreateWorkspaceSuccess') throw new Error(`createWorkspace failed: ${JSON.stringify(res)}`);
  return { workspace: res.workspace, token: res.token ?? null };
}

/** An external workspace (no container, stable AWAITING_AGENT) and its agent token. */
export async function createExternal(s: TestServer, input: Partial<CreateWorkspaceInput> = {}) {
  const { workspace, token } = await createWorkspace(s, { runtime: 'external', ...input });
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { workspace, token: token! };
}

export async function mintWorkspaceToken(s: TestServer, workspaceId: string): Promise<{ token: string; tokenId: string }> {
  const r = await run(s, CreateWorkspaceTokenDocument, { workspaceId });
  const res = r.data.createWorkspaceToken;
  if (res.__typename !== 'CreateWorkspaceTokenSuccess') throw new Error(`createWorkspaceToken failed: ${JSON.stringify(res)}`);
  return { token: res.token, tokenId: res.tokenInfo.id };
}

/** Polls until `check` returns a value that is not undefined (background work after a mutation). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';
