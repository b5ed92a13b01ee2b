// The pure parts of the Swarm runtime: SWARM_PLACEMENT parsing and node matching (Swarm's own rules),
// the service spec, the ContainerInfo/TaskHealth view (trust the node over the task), the polled
// death events. The daemon paths are tested on a real swarm
// (test/e2e/swarm-runtime.test.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { isDeadTask, openTaskDeathStream } from '../../services/runtime/swarm-events.js';
import { containerInfoOf, currentTask, nodeMap, taskHealth, type SwarmService, type SwarmTask, type TaskHealth } from '../../services/runtime/swarm-model.js';
import { largestAllowedNode, nodeMatches, parseConstraint, parsePlacement, type SwarmNode } from '../../services/runtime/swarm-placement.js';
import { LABEL_DEPLOYMENT, secretLabelsOf, secretNameFor, serviceSpecFor } from '../../services/runtime/swarm-spec.js';
import { LABEL_GENERATION, LABEL_MANAGED, LABEL_WORKSPACE_ID, type ContainerSpec, type RuntimeEvent } from '../../services/runtime/types.js';

const GiB = 1024 ** 3;
const WS = '973d4514-17a2-4c4b-9a51-0c0d3f1e2b3a';

function node(id: string, over: Partial<{ role: string; state: string; availability: string; labels: Record<string, string>; cpus: number; mem: number; addr: string; hostname: string }> = {}): SwarmNode {
  return {
    ID: id,
    Spec: { Role: over.role ?? 'worker', Availability: over.availability ?? 'active', Labels: over.labels ?? {} },
    Description: { Hostname: over.hostname ?? id, Platform: { OS: 'linux', Architecture: 'x86_64' }, Resources: { NanoCPUs: (over.cpus ?? 2) * 1e9, MemoryBytes: over.mem ?? 8 * GiB } },
    Status: { State: over.state ?? 'ready', Addr: over.addr ?? '10.0.0.1' },
  };
}

describe('SWARM_PLACEMENT', () => {
  it('parses comma-separated constraints and refuses what Swarm would refuse', () => {
    expect(parsePlacement(' node.role==worker , node.labels.pool != batch ,')).toEqual(['node.role==worker', 'node.labels.pool != batch']);
    expect(parsePlacement('')).toEqual([]);
    expect(() => parseConstraint('node.role=worker')).toThrow(/key==value/);
    expect(() => parseConstraint('node.colour==red')).toThrow(/not a Swarm placement key/);
    expect(() => parseConstraint('node.labels.a==b;c')).toThrow(/does not accept/);
    expect(loadConfig({ CONTAINER_RUNTIME: 'swarm', SWARM_PLACEMENT: 'node.role==manager' })).toMatchObject({ containerRuntime: 'swarm', swarmPlacement: ['node.role==manager'] });
    expect(() => loadConfig({ SWARM_PLACEMENT: 'node.role==worker,bogus' })).toThrow(ConfigError);
    expect(() => loadConfig({ CONTAINER_RUNTIME: 'kubernetes' })).toThrow(ConfigError);
  });

  it('matches nodes as Swarm does: case-insensitive values, a missing label reads as "", unknown keys match nothing', () => {
    const n = node('abc', { role: 'manager', labels: { Pool: 'Agents' }, hostname: 'Host-1', addr: '192.168.1.20' });
    const m = (...exprs: string[]) => nodeMatches(exprs.map(parseConstraint), n);
    expect(m('node.role==MANAGER', 'node.hostname==host-1', 'node.id==abc')).toBe(true);
    expect(m('node.labels.Pool==agents')).toBe(true);
    expect(m('node.labels.pool==agents')).toBe(false); // the label name is case-sensitive
    expect(m('node.labels.missing!=x')).toBe(true);
    expect(m('node.labels.missing==x')).toBe(false);
    expect(m('node.ip==192.168.1.20', 'node.ip!=10.0.0.0/8', 'node.ip==192.168.0.0/16')).toBe(true);
    expect(m('node.ip==10.0.0.0/8')).toBe(false);
    expect(m('engine.labels.zone!=eu', 'node.platform.os==linux')).toBe(true);
    expect(m('node.role==manager', 'node.role!=manager')).toBe(false);
  });

  it('the largest allowed node is the cap, preferring nodes that can take tasks now', () => {
    const nodes = [node('small', { cpus: 2 }), node('big', { cpus: 16, role: 'manager' }), node('down', { cpus: 64, state: 'down' })];
    expect(largestAllowedNode(nodes, [])).toEqual({ nanoCpus: 16e9, memoryBytes: 8 * GiB });
    expect(largestAllowedNode(nodes, [parseConstraint('node.role==worker')])).toEqual({ nanoCpus: 2e9, memoryBytes: 8 * GiB });
    expect(largestAllowedNode(nodes, [parseConstraint('node.id==down')])).toEqual({ nanoCpus: 64e9, memoryBytes: 8 * GiB });
    expect(largestAllowedNode(nodes, [parseConstraint('node.labels.gpu==yes')])).toBeNull();
  });
});

describe('service spec', () => {
  const spec: ContainerSpec = {
    name: 'ws-973d4514-17a',
    image: 'workspace-agent:latest',
    env: { WORKSPACE_ID: WS, TIER: '4' },
    labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS, [LABEL_GENERATION]: '7' },
    configVolume: 'ws-973d4514-17a-configs',
    volumeLabels: {},
    memoryBytes: 16 * GiB,
    cpus: 4,
    readOnlyRoot: true,
    network: 'host',
  };

  it('one replica created at zero, restart none, labels on service and container spec, tier capped as limits and reservations', () => {
    const s = serviceSpecFor({ spec, image: 'sha256:abc', constraints: ['node.role==worker'], capacity: { nanoCpus: 2e9, memoryBytes: 8 * GiB }, deploymentId: 'dep1' });
    const labels = { ...spec.labels, [LABEL_DEPLOYMENT]: 'dep1' };
    expect(s.Name).toBe('ws-973d4514-17a');
    expect(s.Labels).toEqual({ ...labels, 'molecule.workspace.image': 'workspace-agent:latest' });
    expect(s.Mode).toEqual({ Replicated: { Replicas: 0 } });
    const t = s.TaskTemplate as Record<string, any>;
    expect(t.ContainerSpec).toMatchObject({ Image: 'sha256:abc', Labels: labels, ReadOnly: true, Env: [`WORKSPACE_ID=${WS}`, 'TIER=4'] });
    expect(t.ContainerSpec.Mounts).toEqual([{ Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 } }]);
    expect(t.RestartPolicy).toEqual({ Condition: 'none' });
    expect(t.Placement).toEqual({ Constraints: ['node.role==worker'] });
    expect(t.Networks).toEqual([{ Target: 'host' }]);
    expect(t.Resources).toEqual({ Limits: { NanoCPUs: 2e9, MemoryBytes: 8 * GiB }, Reservations: { NanoCPUs: 2e9, MemoryBytes: 8 * GiB } });
    // Below the cap the tier is kept; an unknown capacity caps nothing; a deployment already set wins.
    const small = serviceSpecFor({ spec: { ...spec, cpus: 0.5, memoryBytes: GiB, readOnlyRoot: false, labels: { ...spec.labels, [LABEL_DEPLOYMENT]: 'mine' } }, image: 'x', constraints: [], capacity: null, deploymentId: 'dep1' });
    expect((small.TaskTemplate as any).Resources.Limits).toEqual({ NanoCPUs: 5e8, MemoryBytes: GiB });
    expect((small.TaskTemplate as any).ContainerSpec.Mounts).toEqual([]);
    expect(small.Labels![LABEL_DEPLOYMENT]).toBe('mine');
  });

  it('names the token secret per generation and gives it exactly the four contract labels', () => {
    expect(secretNameFor('ws-973d4514-17a', '.auth_token', '7')).toBe('ws-973d4514-17a-token-7');
    expect(secretNameFor('ws-973d4514-17a', 'other file.txt', '7')).toBe('ws-973d4514-17a-other-file-txt-7');
    expect(secretLabelsOf({ ...spec.labels, [LABEL_DEPLOYMENT]: 'd', 'molecule.workspace.image': 'x', other: 'y' })).toEqual({ ...spec.labels, [LABEL_DEPLOYMENT]: 'd' });
  });
});

describe('the runtime view of services and tasks', () => {
  const service: SwarmService = {
    ID: 'svc1',
    Spec: {
      Name: 'ws-973d4514-17a',
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS, [LABEL_GENERATION]: '3', 'molecule.workspace.image': 'workspace-agent:latest' },
      TaskTemplate: { ContainerSpec: { Image: 'sha256:abc', Labels: { [LABEL_MANAGED]: 'true', [LABEL_WORKSPACE_ID]: WS, [LABEL_GENERATION]: '3' } } },
    },
  };
  const cid = 'c'.repeat(64);
  const task = (over: Partial<SwarmTask> & { state?: string; node?: string; index?: number; exit?: number; err?: string } = {}): SwarmTask => ({
    ID: over.ID ?? 'task1',
    ServiceID: 'svc1',
    NodeID: over.node ?? 'n1',
    Slot: 1,
    DesiredState: over.DesiredState ?? 'running',
    Version: { Index: over.index ?? 10 },
    Spec: { ContainerSpec: { Labels: service.Spec!.TaskTemplate!.ContainerSpec!.Labels } },
    Status: { State: over.state ?? 'running', Timestamp: '2026-12-01T10:00:00Z', Err: over.err, ContainerStatus: { ContainerID: cid, ExitCode: over.exit ?? 0 } },
  });

  it('describes the current task\'s container, running only on a ready node', () => {
    const ready = nodeMap([node('n1')]);
    const info = containerInfoOf(service, task(), ready);
    expect(info).toEqual({
      id: cid,
      name: 'ws-973d4514-17a.1.task1',
      image: 'workspace-agent:latest',
      running: true,
      startedAt: new Date('2026-12-01T10:00:00Z'),
      labels: service.Spec!.TaskTemplate!.ContainerSpec!.Labels,
      state: 'running',
      exitCode: null,
    });
    expect(containerInfoOf(service, task(), nodeMap([node('n1', { state: 'down' })]))).toMatchObject({ running: false, state: 'node down', startedAt: null });
    expect(containerInfoOf(service, task(), nodeMap([]))).toMatchObject({ running: false, state: 'node unknown' });
    expect(containerInfoOf(service, task({ state: 'failed', DesiredState: 'shutdown', exit: 3 }), ready)).toMatchObject({ running: false, state: 'failed', exitCode: 3 });
    // Before its first task: the service itself.
    expect(containerInfoOf(service, null, ready)).toMatchObject({ id: 'svc1', name: 'ws-973d4514-17a', running: false, state: 'created' });
    // A service without a workspace label keeps its service name (the sweepers' name rule).
    const unlabeled = { ID: 'svc2', Spec: { Name: 'ws-973d4514-17a', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } } };
    expect(containerInfoOf(unlabeled, task(), ready)).toMatchObject({ id: cid, name: 'ws-973d4514-17a', image: 'busybox' });
  });

  it('the current task is the newest one meant to run', () => {
    const old = task({ ID: 'old', index: 50, DesiredState: 'shutdown', state: 'failed' });
    const cur = task({ ID: 'cur', index: 20 });
    expect(currentTask([old, cur])?.ID).toBe('cur');
    expect(currentTask([old, task({ ID: 'older', index: 5, DesiredState: 'shutdown' })])?.ID).toBe('old');
    expect(currentTask([])).toBeNull();
  });

  it('a task is dead when it ended, or runs on a node that is not ready; a removed service\'s task is not', () => {
    const h = (t: SwarmTask, nodeState = 'ready') => taskHealth(t, 'ws-973d4514-17a', nodeMap([node('n1', { state: nodeState })]));
    expect(isDeadTask(h(task()))).toBe(false);
    expect(isDeadTask(h(task(), 'down'))).toBe(true);
    expect(isDeadTask(h(task({ state: 'failed', DesiredState: 'shutdown', exit: 1 })))).toBe(true);
    expect(isDeadTask(h(task({ state: 'rejected', DesiredState: 'shutdown', err: 'No such image: x' })))).toBe(true);
    expect(isDeadTask(h(task({ state: 'preparing' })))).toBe(false);
    expect(isDeadTask(h(task({ DesiredState: 'remove' }), 'down'))).toBe(false);
    expect(h(task({ state: 'failed', exit: 1 }))).toMatchObject({ workspaceId: WS, generation: 3, exitCode: 1, running: false });
  });
});

describe('polled death events', () => {
  const health = (id: string, state: string, nodeState = 'ready'): TaskHealth => ({
    taskId: id, serviceId: 's', workspaceId: WS, generation: 1, containerId: `${id}-c`, containerName: `ws.1.${id}`,
    labels: { [LABEL_WORKSPACE_ID]: WS }, state, desiredState: state === 'running' ? 'running' : 'shutdown', nodeId: 'n', nodeState,
    running: state === 'running' && nodeState === 'ready', error: null, exitCode: state === 'failed' ? 2 : null,
  });

  it('reports each death once, never what was dead at the start, and fails once when the manager stops answering', async () => {
    const listings: Array<TaskHealth[] | Error> = [
      [health('gone-before', 'failed'), health('a', 'running'), health('b', 'running')],
      [health('gone-before', 'failed'), health('a', 'failed'), health('b', 'running')],
      [health('a', 'failed'), health('b', 'running', 'down')],
      [health('a', 'failed'), health('b', 'running', 'down')],
      new Error('connect ECONNREFUSED'),
    ];
    let i = 0;
    const events: RuntimeEvent[] = [];
    const errors: Error[] = [];
    const done = new Promise<void>((resolve) => {
      void openTaskDeathStream(
        async () => {
          const next = listings[Math.min(i++, listings.length - 1)]!;
          if (next instanceof Error) throw next;
          return next;
        },
        1,
        (e) => events.push(e),
        (err) => {
          errors.push(err);
          resolve();
        },
        () => {},
      );
    });
    await done;
    expect(events).toEqual([
      { action: 'die', containerId: 'a-c', name: 'ws.1.a', labels: { [LABEL_WORKSPACE_ID]: WS }, exitCode: 2 },
      { action: 'die', containerId: 'b-c', name: 'ws.1.b', labels: { [LABEL_WORKSPACE_ID]: WS } },
    ]);
    expect(errors.map((e) => e.message)).toEqual(['connect ECONNREFUSED']);
  });
});
