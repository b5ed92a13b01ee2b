// npm start's agent image check: it builds only the reference image, only when a daemon answers and
// the image is missing; otherwise it says in one line how to get it.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { ensureAgentImage } from '../../services/agent-image.js';
import { createLogger } from '../../services/log.js';
import { createFakeRuntime } from '../../services/runtime/fake.js';
import { createNoneRuntime } from '../../services/runtime/none.js';

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const log = createLogger('info');
  const spy = Object.assign(Object.create(log), {
    info: (a: unknown, b?: string) => lines.push({ level: 30, msg: String(b ?? a) }),
    warn: (a: unknown, b?: string) => lines.push({ level: 40, msg: String(b ?? a) }),
  });
  return { log: spy as typeof log, lines };
}

describe('agent image check at npm start', () => {
  it('leaves an operator-chosen image alone', async () => {
    const { log, lines } = capture();
    const config = loadConfig({ WORKSPACE_IMAGE: 'registry.local/agent:7' });
    expect(await ensureAgentImage({ config, runtime: createFakeRuntime({ images: [] }), log })).toBe('not-ours');
    expect(lines).toEqual([]);
  });

  it('does nothing when the reference image is present', async () => {
    const { log, lines } = capture();
    const runtime = createFakeRuntime({ images: ['workspace-agent:latest'] });
    expect(await ensureAgentImage({ config: loadConfig({}), runtime, log })).toBe('present');
    expect(lines).toEqual([]);
  });

  it('says in one line how to build the image when no daemon answers', async () => {
    const { log, lines } = capture();
    const runtime = createFakeRuntime();
    runtime.setAvailable(false);
    expect(await ensureAgentImage({ config: loadConfig({}), runtime, log })).toBe('no-runtime');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/npm run agent:image/);
  });

  it('stays silent with the "none" runtime', async () => {
    const { log, lines } = capture();
    expect(await ensureAgentImage({ config: loadConfig({ CONTAINER_RUNTIME: 'none' }), runtime: createNoneRuntime(), log })).toBe('no-runtime');
    expect(lines).toEqual([]);
  });
});
