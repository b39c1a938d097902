import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeContainer, FakePodSpec } from './types.js';

export interface MountedVolume {
  mountPath: string;
  hostDir: string;
}

/**
 * Creates a folder under `podDir` for each emptyDir the container mounts. Longest mount paths first, so a
 * nested mount wins when paths are translated.
 */
export function mountVolumes(spec: FakePodSpec, container: FakeContainer, podDir: string): MountedVolume[] {
  const mounts: MountedVolume[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    if (!volume?.emptyDir) throw new Error(`the fake kubelet only mounts emptyDir volumes (${mount.name})`);
    const hostDir = join(podDir, 'volumes', mount.name);
    mkdirSync(hostDir, { recursive: true });
    mounts.push({ mountPath: mount.mountPath.replace(/\/+$/, ''), hostDir });
  }
  return mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
}

/** Where a path inside the container lives on the host, if it is on a mounted volume. */
export function hostPath(path: string, mounts: MountedVolume[]): string | undefined {
  for (const { mountPath, hostDir } of mounts) {
    if (path === mountPath) return hostDir;
    if (path.startsWith(`${mountPath}/`)) return join(hostDir, path.slice(mountPath.length + 1));
  }
  return undefined;
}

/**
 * The container's env as the process sees it. Values that are a mounted path (CODE_DIR, HOME, TMPDIR...)
 * point at the volume's host folder instead; every other value is passed as it is.
 */
export function containerEnvironment(container: FakeContainer, mounts: MountedVolume[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    if (variable.valueFrom) throw new Error(`the fake kubelet does not resolve valueFrom (${variable.name})`);
    const value = variable.value ?? '';
    env[variable.name] = value.startsWith('/') ? (hostPath(value, mounts) ?? value) : value;
  }
  return env;
}
