// The agent endpoints' check order (413 > 415 > 400 > 404 > 401 > 409), exact error bodies and field
// bounds, over real HTTP.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentCall,
  heartbeatBody,
  readRow,
  registerBody,
  seedWorkspace,
  tablesChecksum,
  type Seeded,
} from '../support/registry-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const MiB = 1024 * 1024;
const UNKNOWN = '00000000-0000-4000-8000-0000000000aa';

/** A raw request with a chunked body (no content-length), which fetch cannot lie about. */
function chunkedPost(url: string, path: string, chunks: Buffer[], headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    const writeNext = (i: number): void => {
      if (i === chunks.length) return void req.end();
      if (req.destroyed) return;
      req.write(chunks[i], () => writeNext(i + 1));
    };
    writeNext(0);
  });
}

describe('agent endpoint checks', () => {
  let s: TestServer;
  let online: Seeded;
  beforeAll(async () => {
    s = await startTestServer();
    online = await seedWorkspace(s, 'ONLINE');
  });
  afterAll(async () => {
    await s?.stop();
  });

  const hb = (body: unknown, token: string | null = online.token, contentType?: string | null) =>
    agentCall(s, '/registry/heartbeat', { body, token, contentType });

  describe('check order, one boundary each', () => {
    it('413 before 415: an oversized body with the wrong content type is 413', async () => {
      const r = await hb('x'.repeat(MiB + 1), online.token, 'text/plain');
      expect(r.status).toBe(413);
      expect(r.text).toBe('{"error":"request body exceeds 1 MiB"}');
    });

    it('413 is counted on the stream: a chunked body without content-length is refused past 1 MiB', async () => {
      const chunks = Array.from({ length: 5 }, () => Buffer.alloc(256 * 1024, 0x20));
      const r = await chunkedPost(s.url, '/registry/heartbeat', chunks, { 'content-type': 'application/json' });
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toEqual({ error: 'request body exceeds 1 MiB' });
    });

    it('a body of exactly 1 MiB is read (whitespace-padded valid heartbeat answers 200)', async () => {
      const json = JSON.stringify(heartbeatBody(online.id));
      const r = await hb(json + ' '.repeat(MiB - Buffer.byteLength(json)));
      expect(r.status).toBe(200);
    });

    it('415 before 400: a malformed body without a content type is 415', async () => {
      const r = await hb('{not json', online.token, null);
      expect(r.status).toBe(415);
      expect(r.text).toBe('{"error":"content type must be application/json"}');
    });

    it('415 for text/plain and for application/jsonx; charset parameters are accepted', async () => {
      expect((await hb(heartbeatBody(online.id), online.token, 'text/plain')).status).toBe(415);
      expect((await hb(heartbeatBody(online.id), online.token, 'application/jsonx')).status).toBe(415);
      expect((await hb(heartbeatBody(online.id), online.token, 'application/json; charset=utf-8')).status).toBe(200);
      expect((await hb(heartbeatBody(online.id), online.token, 'Application/JSON;charset=UTF-8')).status).toBe(200);
    });

    it('400 before 404: an out-of-bounds field for an unknown workspace is 400', async () => {
      const r = await hb(heartbeatBody(UNKNOWN, { error_rate: 2 }), null);
      expect(r.status).toBe(400);
      expect(Object.keys(r.body)).toEqual(['error']);
      expect(r.body.error).toMatch(/^error_rate: /);
    });

    it('400 for malformed JSON, a non-object body and a missing id', async () => {
      for (const body of ['{"workspace_id":', '[]', 'null', '"x"', '{}']) {
        const r = await hb(body);
        expect(r.status, body).toBe(400);
        expect(Object.keys(r.body)).toEqual(['error']);
      }
      expect((await hb('{}')).body).toEqual({ error: 'workspace_id: is required' });
    });

    it('404 before 401: an unknown workspace without a token is 404 with the exact body', async () => {
      const r = await hb(heartbeatBody(UNKNOWN), null);
      expect(r.status).toBe(404);
      expect(r.text).toBe(`{"workspace_id":"${UNKNOWN}","deleted":true}`);
    });

    it('404 for an id that is not a UUID, echoing it', async () => {
      const r = await hb(heartbeatBody('not-a-uuid'), null);
      expect(r.status).toBe(404);
      expect(r.text).toBe('{"workspace_id":"not-a-uuid","deleted":true}');
    });

    it('401 before 409: a paused workspace with a bad token is 401 with the exact body', async () => {
      const paused = await seedWorkspace(s, 'PAUSED');
      for (const token of [null, 'wrong-token', online.token]) {
        const r = await hb(heartbeatBody(paused.id), token);
        expect(r.status).toBe(401);
        expect(r.text).toBe('{"error":"invalid workspace token"}');
      }
      expect((await hb(heartbeatBody(paused.id), paused.token)).status).toBe(409);
    });

    it('401 for the admin token, a revoked token and a header that is not exactly "Bearer <token>"', async () => {
      const w = await seedWorkspace(s, 'ONLINE');
      const admin = await hb(heartbeatBody(w.id), 'test-admin-token-0123456789abcdef');
      expect(admin.status).toBe(401);
      const lower = await agentCall(s, '/registry/heartbeat', { body: heartbeatBody(w.id), headers: { authorization: `bearer ${w.token}` } });
      expect(lower.status).toBe(401);
      await s.db.prisma.$executeRaw`UPDATE workspace_auth_tokens SET revoked_at = now() WHERE workspace_id = ${w.id}::uuid`;
      const revoked = await hb(heartbeatBody(w.id), w.token);
      expect(revoked.status).toBe(401);
      expect(revoked.text).toBe('{"error":"invalid workspace token"}');
    });

    it('refused requests change nothing', async () => {
      const paused = await seedWorkspace(s, 'PAUSED');
      const before = await tablesChecksum(s);
      await hb(heartbeatBody(paused.id), paused.token);
      await hb(heartbeatBody(online.id), 'wrong');
      await hb(heartbeatBody(online.id, { active_tasks: -1 }));
      await hb(heartbeatBody(online.id), online.token, 'text/plain');
      expect(await tablesChecksum(s)).toBe(before);
    });
  });

  describe('heartbeat field bounds', () => {
    const accepted = async (extra: Record<string, unknown>) => (await hb(heartbeatBody(online.id, extra))).status;

    it('error_rate must be within 0..1', async () => {
      expect(await accepted({ error_rate: -0.01 })).toBe(400);
      expect(await accepted({ error_rate: 1.01 })).toBe(400);
      expect(await accepted({ error_rate: '0.2' })).toBe(400);
      expect(await accepted({ error_rate: 0 })).toBe(200);
      expect(await accepted({ error_rate: 1 })).toBe(200);
    });

    it('active_tasks must be an integer within 0..1,000,000', async () => {
      expect(await accepted({ active_tasks: 1_000_001 })).toBe(400);
      expect(await accepted({ active_tasks: -1 })).toBe(400);
      expect(await accepted({ active_tasks: 1.5 })).toBe(400);
      expect(await accepted({ active_tasks: 1_000_000 })).toBe(200);
      expect((await readRow(s, online.id)).active_tasks).toBe(1_000_000);
    });

    it('uptime_seconds past 2^31-1 is clamped; negative is refused', async () => {
      expect(await accepted({ uptime_seconds: 2 ** 31 })).toBe(200);
      expect((await readRow(s, online.id)).uptime_seconds).toBe(2 ** 31 - 1);
      expect(await accepted({ uptime_seconds: 1e300 })).toBe(200);
      expect((await readRow(s, online.id)).uptime_seconds).toBe(2 ** 31 - 1);
      expect(await accepted({ uptime_seconds: -1 })).toBe(400);
    });

    it('sample_error and current_task are truncated at 4,096 characters', async () => {
      expect(await accepted({ sample_error: 'e'.repeat(4096), current_task: 't'.repeat(4097) })).toBe(200);
      let row = await readRow(s, online.id);
      expect(row.last_sample_error).toBe('e'.repeat(4096));
      expect(row.current_task).toBe('t'.repeat(4096));
      expect(await accepted({ sample_error: 'x'.repeat(4097) })).toBe(200);
      expect((await readRow(s, online.id)).last_sample_error).toBe('x'.repeat(4096));
      // characters, not UTF-16 units: a pair is never split
      expect(await accepted({ current_task: '😀'.repeat(4097) })).toBe(200);
      row = await readRow(s, online.id);
      expect([...row.current_task!]).toHaveLength(4096);
    });

    it('runtime_state must be "" or "wedged"', async () => {
      expect(await accepted({ runtime_state: 'sleepy' })).toBe(400);
      expect(await accepted({ runtime_state: 'WEDGED' })).toBe(400);
      expect(await accepted({ runtime_state: '' })).toBe(200);
    });

    it('NUL in free text is stored as U+FFFD instead of failing', async () => {
      expect(await accepted({ sample_error: 'a\u0000b' })).toBe(200);
      expect((await readRow(s, online.id)).last_sample_error).toBe('a\uFFFDb');
    });
  });

  describe('agent_card and url bounds (register, update-card)', () => {
    const cardOfBytes = (n: number) => {
      const overhead = JSON.stringify({ pad: '' }).length;
      return { pad: 'a'.repeat(n - overhead) };
    };
    const register = (extra: Record<string, unknown>) =>
      agentCall(s, '/registry/register', { body: registerBody(online.id, extra), token: online.token });

    it('agent_card of exactly 256 KiB is accepted, one byte more is 400', async () => {
      expect((await register({ agent_card: cardOfBytes(256 * 1024) })).status).toBe(200);
      const r = await register({ agent_card: cardOfBytes(256 * 1024 + 1) });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/^agent_card: /);
      const u = await agentCall(s, '/registry/update-card', {
        body: { workspace_id: online.id, agent_card: cardOfBytes(256 * 1024 + 1) },
        token: online.token,
      });
      expect(u.status).toBe(400);
    });

    it('agent_card must be a JSON object', async () => {
      for (const card of [[], 'card', null, 3]) expect((await register({ agent_card: card })).status).toBe(400);
      expect((await register({ agent_card: undefined })).body).toEqual({ error: 'agent_card: is required' });
    });

    it('agent_card that jsonb cannot hold (NUL, lone surrogate, absurd depth) is 400, not 500', async () => {
      expect((await register({ agent_card: { a: 'x\u0000' } })).status).toBe(400);
      expect((await register({ agent_card: { 'k\u0000': 1 } })).status).toBe(400);
      const lone = '{"id":"' + online.id + '","url":"http://127.0.0.1:1","agent_card":{"a":"\\ud800"}}';
      expect((await agentCall(s, '/registry/register', { body: lone, token: online.token })).status).toBe(400);
      const deep = '{"id":"' + online.id + '","url":"http://127.0.0.1:1","agent_card":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5001);
      expect((await agentCall(s, '/registry/register', { body: deep, token: online.token })).status).toBe(400);
    });

    it('url follows the URL rule: at most 2,048 characters, http(s), no metadata or link-local', async () => {
      const base = 'http://agent.example/';
      expect((await register({ url: base + 'a'.repeat(2048 - base.length) })).status).toBe(200);
      expect((await register({ url: base + 'a'.repeat(2049 - base.length) })).status).toBe(400);
      for (const url of [
        'ftp://127.0.0.1/',
        'http://169.254.169.254/latest',
        'http://[::ffff:169.254.169.254]/',
        'http://metadata.google.internal/',
        'http://[fe80::1]/',
        'http://224.0.0.1/',
        'http://0.0.0.0:80/',
        'http://192.0.2.1/',
        'not a url',
      ]) {
        const r = await register({ url });
        expect(r.status, url).toBe(400);
        expect(r.body.error, url).toMatch(/^url: /);
      }
      for (const url of ['http://127.0.0.1:0', 'http://localhost:9000', 'https://10.1.2.3', 'http://[::1]:80/']) {
        expect((await register({ url })).status, url).toBe(200);
      }
    });

    it('the url of a refused register is not stored', async () => {
      await register({ url: 'http://127.0.0.1:7000' });
      await register({ url: 'http://169.254.169.254/' });
      expect((await readRow(s, online.id)).url).toBe('http://127.0.0.1:7000');
    });
  });

  describe('routes and methods', () => {
    it('unknown routes answer 404 {"error":"not found"}', async () => {
      for (const path of ['/nope', '/registry', '/registry/heartbeat/', '/workspaces/x', '/workspaces/x/state/extra']) {
        const r = await agentCall(s, path);
        expect(r.status, path).toBe(404);
        expect(r.text).toBe('{"error":"not found"}');
      }
    });

    it('a wrong method on an agent route answers 405 with Allow', async () => {
      const r = await agentCall(s, '/registry/heartbeat', { method: 'GET' });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
      expect(r.body).toEqual({ error: 'method not allowed' });
      const st = await agentCall(s, `/workspaces/${online.id}/state`, { method: 'POST', body: '{}' });
      expect(st.status).toBe(405);
    });

    it('an external workspace created through createWorkspace registers with the token it returned', async () => {
      const created = await s.gql(
        `mutation { createWorkspace(input: { name: "ext", runtime: "external" }) {
           ... on CreateWorkspaceSuccess { token workspace { id status } } } }`,
      );
      const { token, workspace } = created.data.createWorkspace;
      expect(workspace.status).toBe('AWAITING_AGENT');
      const r = await agentCall(s, '/registry/register', { body: registerBody(workspace.id), token });
      expect(r.status).toBe(200);
      const read = await s.gql(`query($id: ID!) { workspace(id: $id) { status url agentCard } }`, { id: workspace.id });
      expect(read.data.workspace).toEqual({ status: 'ONLINE', url: 'http://127.0.0.1:8000', agentCard: { name: 'test-agent' } });
    });
  });
});
