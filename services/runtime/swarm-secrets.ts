// The token as a Swarm secret (API.md: `ws-<12>-token-<generation>`, the service's four labels,
// mounted at /configs/.auth_token, 0600, 0:0). A secret's data cannot change, so every generation
// has its own, and a secret cannot be removed while a service refers to it (the daemon answers 400).
import path from 'node:path';
import type Docker from 'dockerode';
import { statusOf } from './docker-connection.js';
import type { RuntimeLog } from './docker.js';
import type { SwarmService, SwarmServiceSpec } from './swarm-model.js';
import { secretLabelsOf, secretNameFor } from './swarm-spec.js';
import type { ServiceUpdater } from './swarm-tasks.js';
import { LABEL_GENERATION, LABEL_WORKSPACE_ID } from './types.js';

export interface SecretInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
}

interface SecretRow {
  ID: string;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

/** The config volume name the lifecycle and sweepers compute; on Swarm it stands for the token secrets. */
const CONFIG_VOLUME = /^(ws-[0-9a-f]{8}-[0-9a-f]{3})-configs$/;
const IN_USE_RETRIES = 5;

export function createSecretStore(api: Docker, updater: ServiceUpdater, managedFilter: readonly string[], log: RuntimeLog) {
  async function remove(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await api.getSecret(name).remove();
        return;
      } catch (err) {
        if (statusOf(err) === 404) return;
        // Still referenced: right after its service went, the manager may not have let go of it yet.
        if (statusOf(err) !== 400 || attempt >= IN_USE_RETRIES) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt));
      }
    }
  }

  async function list(labelFilters: readonly string[], namePrefix?: string): Promise<SecretInfo[]> {
    const filters = { label: [...labelFilters], ...(namePrefix ? { name: [namePrefix] } : {}) };
    const rows = (await api.listSecrets({ filters })) as SecretRow[];
    return rows
      .map((r) => ({ id: r.ID, name: r.Spec?.Name ?? '', labels: r.Spec?.Labels ?? {} }))
      .filter((s) => !namePrefix || s.name.startsWith(namePrefix));
  }

  /** Creates the secret; a leftover of the same name (an interrupted attempt of this workspace) is replaced. */
  async function createFresh(name: string, labels: Record<string, string>, content: string): Promise<string> {
    // _query/_body: dockerode would otherwise also put the secret's data in the query string.
    const body = { Name: name, Labels: labels, Data: Buffer.from(content, 'utf8').toString('base64') };
    try {
      return (await api.createSecret({ _query: {}, _body: body })).id as string;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    const existing = (await api.getSecret(name).inspect()) as SecretRow;
    if (existing.Spec?.Labels?.[LABEL_WORKSPACE_ID] !== labels[LABEL_WORKSPACE_ID]) {
      throw Object.assign(new Error(`a secret named ${name} that is not this workspace's is in the way`), { statusCode: 409 });
    }
    await remove(name);
    return (await api.createSecret({ _query: {}, _body: body })).id as string;
  }

  return {
    list,
    remove,

    /** writeFile: the file as the service's secret at dir/fileName; a secret it replaces is removed. */
    async attach(service: SwarmService, dir: string, fileName: string, content: string, mode: number): Promise<void> {
      if (!fileName || fileName.includes('/')) throw new Error(`writeFile: "${fileName}" is not a plain file name`);
      const labels = service.Spec?.Labels ?? {};
      const name = secretNameFor(service.Spec?.Name ?? service.ID, fileName, labels[LABEL_GENERATION] ?? '0');
      const id = await createFresh(name, secretLabelsOf(labels), content);
      const target = path.posix.join(dir, fileName);
      const replaced = new Set<string>();
      await updater.update(service, (spec): SwarmServiceSpec => {
        const container = spec.TaskTemplate?.ContainerSpec ?? {};
        const kept = (container.Secrets ?? []).filter((r) => {
          if (r.File?.Name !== target) return true;
          if (r.SecretName && r.SecretName !== name) replaced.add(r.SecretName);
          return false;
        });
        const ref = { SecretID: id, SecretName: name, File: { Name: target, UID: '0', GID: '0', Mode: mode } };
        return { ...spec, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: { ...container, Secrets: [...kept, ref] } } };
      });
      for (const old of replaced) await remove(old).catch((err: unknown) => log.warn({ err, secret: old }, 'a replaced secret was kept; the orphan sweeper will remove it'));
    },

    /** After the service is gone: the secrets it referred to. */
    async removeAttached(service: SwarmService): Promise<void> {
      const names = (service.Spec?.TaskTemplate?.ContainerSpec?.Secrets ?? []).flatMap((r) => (r.SecretName ? [r.SecretName] : []));
      await Promise.all(names.map((n) => remove(n).catch((err: unknown) => log.warn({ err, secret: n }, 'a secret of a removed service was kept; the orphan sweeper will remove it'))));
    },

    /** A secret by name, or for `ws-<12>-configs` every labeled secret of that workspace. */
    async removeVolume(name: string): Promise<void> {
      const m = CONFIG_VOLUME.exec(name);
      if (!m) return remove(name);
      const failures: unknown[] = [];
      for (const s of await list(managedFilter, `${m[1]}-`)) await remove(s.name).catch((err: unknown) => failures.push(err));
      if (failures.length > 0) throw failures[0];
    },
  };
}
