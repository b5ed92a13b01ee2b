import tar from 'tar-stream';
import { describe, expect, it, vi } from 'vitest';
import { STREAM_SYSTEM_ERROR, demuxDockerStream, singleFileTar, splitLogFrames } from '../../services/runtime/docker-archive.js';
import { isConnectionError, parseDockerHost } from '../../services/runtime/docker-connection.js';
import { LineSplitter, parseEventLine } from '../../services/runtime/docker-events.js';
import { createFakeRuntime } from '../../services/runtime/fake.js';
import { createNoneRuntime } from '../../services/runtime/none.js';
import {
  ContainerNameConflict,
  LABEL_GENERATION,
  LABEL_MANAGED,
  LABEL_WORKSPACE_ID,
  RuntimeUnavailable,
  configVolumeFor,
  containerNameFor,
  type ContainerSpec,
  type RuntimeEvent,
} from '../../services/runtime/types.js';

const WS = '0f8fad5b-d9cb-469f-a165-70867728950e';

function spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: containerNameFor(WS),
    image: 'workspace-agent:latest',
    env: { WORKSPACE_ID: WS },
    labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS, [LABEL_GENERATION]: '1' },
    configVolume: configVolumeFor(WS),
    volumeLabels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS },
    memoryBytes: 256 * 1024 * 1024,
    cpus: 1,
    readOnlyRoot: false,
    network: 'host',
    ...overrides,
  };
}

describe('fake runtime', () => {
  it('creates a stopped container and its labeled config volume', async () => {
    const rt = createFakeRuntime();
    const { id } = await rt.create(spec());
    expect(await rt.inspect(id)).toMatchObject({ id, name: 'ws-0f8fad5b-d9c', running: false, startedAt: null });
    expect(await rt.listVolumes([`${LABEL_WORKSPACE_ID}=${WS}`])).toEqual([
      { name: 'ws-0f8fad5b-d9c-configs', labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS } },
    ]);
    expect(rt.kind).toBe('fake');
  });

  it('refuses a second container with the same name', async () => {
    const rt = createFakeRuntime();
    await rt.create(spec());
    await expect(rt.create(spec())).rejects.toBeInstanceOf(ContainerNameConflict);
  });

  it('caps the CPU request at the host CPU count', async () => {
    const rt = createFakeRuntime({ cpuCount: 2 });
    const { id } = await rt.create(spec({ cpus: 4 }));
    expect(rt.find(id)?.effectiveCpus).toBe(2);
    expect(await rt.hostCpuCount()).toBe(2);
  });

  it('starts, stops and removes idempotently; inspect of a missing container is null', async () => {
    const rt = createFakeRuntime();
    const { id } = await rt.create(spec());
    await rt.start(id);
    const running = await rt.inspect('ws-0f8fad5b-d9c');
    expect(running?.running).toBe(true);
    expect(running?.startedAt).toBeInstanceOf(Date);
    await rt.stop(id);
    await rt.stop(id);
    await rt.stop('ws-nothing');
    expect((await rt.inspect(id))?.running).toBe(false);
    await rt.remove(id);
    await rt.remove(id);
    expect(await rt.inspect(id)).toBeNull();
  });

  it('refuses to remove a running container unless forced', async () => {
    const rt = createFakeRuntime();
    const { id } = await rt.create(spec());
    await rt.start(id);
    await expect(rt.remove(id)).rejects.toThrow(/running/);
    await rt.remove(id, { force: true });
    expect(await rt.inspect(id)).toBeNull();
  });

  it('lists by every label filter (key or key=value) and by exact name prefix', async () => {
    const rt = createFakeRuntime();
    await rt.create(spec());
    await rt.create(spec({ name: 'wsx-decoy', labels: { other: 'x' }, configVolume: 'v2' }));
    await rt.create(spec({ name: 'my-ws-decoy', labels: {}, configVolume: 'v3' }));
    expect((await rt.list([LABEL_MANAGED, `${LABEL_WORKSPACE_ID}=${WS}`])).map((c) => c.name)).toEqual([
      'ws-0f8fad5b-d9c',
    ]);
    expect(await rt.list([`${LABEL_WORKSPACE_ID}=someone-else`])).toEqual([]);
    expect((await rt.listByNamePrefix('ws-')).map((c) => c.name)).toEqual(['ws-0f8fad5b-d9c']);
  });

  it('keeps files written into /configs in the volume, with their mode, across container removal', async () => {
    const rt = createFakeRuntime();
    const first = await rt.create(spec());
    await rt.writeFile(first.id, '/configs', '.auth_token', 'secret', 0o600);
    expect(rt.readFile(first.id, '/configs/.auth_token')).toEqual({ content: 'secret', mode: 0o600 });
    await rt.remove(first.id);
    const second = await rt.create(spec());
    expect(rt.readFile(second.id, '/configs/.auth_token')?.content).toBe('secret');
    await expect(rt.writeFile('missing', '/configs', 'x', 'y', 0o644)).rejects.toThrow(/No such container/);
  });

  it('removes volumes idempotently but not while a container uses them', async () => {
    const rt = createFakeRuntime();
    const { id } = await rt.create(spec());
    await expect(rt.removeVolume(configVolumeFor(WS))).rejects.toThrow(/in use/);
    await rt.remove(id);
    await rt.removeVolume(configVolumeFor(WS));
    await rt.removeVolume(configVolumeFor(WS));
    expect(rt.volumes.size).toBe(0);
  });

  it('returns the last lines of output, and null for a missing container', async () => {
    const rt = createFakeRuntime();
    const { id } = await rt.create(spec());
    rt.appendLog(id, 'one\ntwo\nthree\n');
    expect(await rt.logs(id, 2)).toBe('two\nthree\n');
    expect(await rt.logs('missing', 10)).toBeNull();
  });

  it('answers imageExists from the configured images', async () => {
    const rt = createFakeRuntime({ images: ['a:1'] });
    expect(await rt.imageExists('a:1')).toBe(true);
    expect(await rt.imageExists('b:1')).toBe(false);
    await expect(rt.create(spec({ image: 'b:1' }))).rejects.toThrow(/No such image/);
  });

  it('fails the next call of a method once, and flips available() on RuntimeUnavailable', async () => {
    const rt = createFakeRuntime();
    rt.failNext('inspect');
    rt.failNext('list', new Error('boom'));
    await expect(rt.inspect('x')).rejects.toBeInstanceOf(RuntimeUnavailable);
    expect(rt.available()).toBe(false);
    expect(await rt.inspect('x')).toBeNull();
    expect(rt.available()).toBe(true);
    await expect(rt.list([])).rejects.toThrow('boom');
    expect(rt.available()).toBe(true);
    expect(rt.calls.map((c) => c.method)).toEqual(['inspect', 'inspect', 'list']);
  });

  it('throws RuntimeUnavailable everywhere and breaks event streams while down', async () => {
    const rt = createFakeRuntime();
    const onError = vi.fn();
    await rt.events(() => {}, onError);
    rt.setAvailable(false);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(rt.available()).toBe(false);
    expect(await rt.ping()).toBe(false);
    await expect(rt.create(spec())).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.stop('x')).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.events(() => {}, () => {})).rejects.toBeInstanceOf(RuntimeUnavailable);
    rt.setAvailable(true);
    expect(await rt.ping()).toBe(true);
    expect(rt.available()).toBe(true);
  });

  it('announces lifecycle events of managed containers only', async () => {
    const rt = createFakeRuntime();
    const events: RuntimeEvent[] = [];
    await rt.events((e) => events.push(e), () => {});
    const { id } = await rt.create(spec());
    const unmanaged = await rt.create(spec({ name: 'other', labels: {}, configVolume: 'v2' }));
    await rt.start(id);
    await rt.start(unmanaged.id);
    rt.exit(id, 3, { oom: true });
    await rt.remove(id);
    await rt.remove(unmanaged.id, { force: true });
    expect(events.map((e) => e.action)).toEqual(['start', 'oom', 'die', 'destroy']);
    expect(events[2]).toMatchObject({ containerId: id, name: 'ws-0f8fad5b-d9c', exitCode: 3 });
    expect(events[2].labels[LABEL_WORKSPACE_ID]).toBe(WS);
  });

  it('fires onError once when the stream breaks, and never after the caller closes it', async () => {
    const rt = createFakeRuntime();
    const broken = vi.fn();
    const closed = vi.fn();
    await rt.events(() => {}, broken);
    const handle = await rt.events(() => {}, closed);
    handle.close();
    expect(rt.openEventStreams()).toBe(1);
    rt.breakEvents();
    rt.breakEvents();
    expect(broken).toHaveBeenCalledTimes(1);
    expect(closed).not.toHaveBeenCalled();
    rt.emit({ action: 'die', containerId: 'c', name: 'n', labels: {} });
    expect(rt.openEventStreams()).toBe(0);
  });
});

describe('none runtime', () => {
  it('is never available and refuses every operation with RuntimeUnavailable', async () => {
    const rt = createNoneRuntime();
    expect(rt.kind).toBe('none');
    expect(rt.available()).toBe(false);
    expect(await rt.ping()).toBe(false);
    await expect(rt.list([LABEL_MANAGED])).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.inspect('x')).rejects.toBeInstanceOf(RuntimeUnavailable);
    await expect(rt.events(() => {}, () => {})).rejects.toBeInstanceOf(RuntimeUnavailable);
  });
});

describe('docker runtime helpers', () => {
  it('parses DOCKER_HOST forms', () => {
    expect(parseDockerHost(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost('unix:///tmp/d.sock')).toEqual({ socketPath: '/tmp/d.sock' });
    expect(parseDockerHost('tcp://127.0.0.1:2375')).toEqual({ host: '127.0.0.1', port: 2375, protocol: 'http' });
    expect(() => parseDockerHost('ssh://me@host')).toThrow(/only unix/);
  });

  it('tells a missing daemon from an answer of the daemon', () => {
    expect(isConnectionError(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('(HTTP code 404)'), { statusCode: 404 }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('(HTTP code 500)'), { statusCode: 500 }))).toBe(false);
  });

  it('reassembles event lines split across chunks, even inside a multi-byte character', () => {
    const line = JSON.stringify({
      Type: 'container',
      Action: 'die',
      Actor: { ID: 'abc', Attributes: { name: 'ws-1', image: 'i', exitCode: '137', [LABEL_MANAGED]: 'true', note: 'é' } },
    });
    const bytes = Buffer.from(`${line}\n{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"x"}}\nnot json\n`);
    const cut = bytes.indexOf(Buffer.from('é')) + 1; // inside the two-byte character
    const splitter = new LineSplitter();
    const lines = [...splitter.push(bytes.subarray(0, cut)), ...splitter.push(bytes.subarray(cut))];
    const events = lines.map(parseEventLine).filter((e) => e !== null);
    expect(events).toEqual([
      { action: 'die', containerId: 'abc', name: 'ws-1', exitCode: 137, labels: { [LABEL_MANAGED]: 'true', note: 'é' } },
    ]);
  });

  it('demultiplexes stdout and stderr frames and passes raw (TTY) output through', () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    expect(demuxDockerStream(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, 'again\n')]))).toBe(
      'out\nerr\nagain\n',
    );
    expect(demuxDockerStream(Buffer.from('plain tty text\n'))).toBe('plain tty text\n');
    // Swarm's service logs add the manager's own error frames (stream 3), told apart from the output;
    // Docker's container logs know streams 0-2 only, so a 3 there is not a frame.
    const swarmLog = Buffer.concat([frame(1, 'out\n'), frame(STREAM_SYSTEM_ERROR, 'node x is not available'), frame(2, 'err\n')]);
    expect(splitLogFrames(swarmLog, STREAM_SYSTEM_ERROR).map((f) => [f.stream, f.data.toString()])).toEqual([[1, 'out\n'], [3, 'node x is not available'], [2, 'err\n']]);
    expect(splitLogFrames(frame(3, 'x')).map((f) => f.stream)).toEqual([-1]);
  });

  it('builds a tar of one root-owned file with the given mode and refuses paths', async () => {
    const archive = await singleFileTar('.auth_token', 'tok', 0o600);
    const entries: Array<{ name: string; mode?: number; uid?: number; body: string }> = [];
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      let body = '';
      stream.on('data', (c: unknown) => {
        body += String(c);
      });
      stream.on('end', () => {
        entries.push({ name: header.name, mode: header.mode, uid: header.uid, body });
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      extract.end(archive);
    });
    expect(entries).toEqual([{ name: '.auth_token', mode: 0o600, uid: 0, body: 'tok' }]);
    await expect(singleFileTar('../x', 'y', 0o600)).rejects.toThrow(/plain file name/);
  });
});
