import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MountedVolume } from './container-volumes.js';
import type { FakeContainer } from './types.js';

/** What the kubelet does: default path, at most 4096 bytes kept, and the log's tail for FallbackToLogsOnError. */
const DEFAULT_PATH = '/dev/termination-log';
const MAX_MESSAGE_BYTES = 4096;
const FALLBACK_LOG_BYTES = 2048;
const FALLBACK_LOG_LINES = 80;

/**
 * The kubelet bind-mounts an empty file at the container's terminationMessagePath. The fake creates it in the
 * pod's folder and returns it as a mount, so an env value naming the path reaches the file.
 */
export function mountTerminationMessage(container: FakeContainer, podDir: string): MountedVolume {
  const hostDir = join(podDir, 'termination-log');
  mkdirSync(podDir, { recursive: true });
  writeFileSync(hostDir, '');
  return { mountPath: container.terminationMessagePath ?? DEFAULT_PATH, hostDir };
}

/** The `message` of the container's terminated state, as the kubelet fills it in. */
export function terminationMessage(container: FakeContainer, mount: MountedVolume, exitCode: number, logs: string): string | undefined {
  const fd = openSync(mount.hostDir, 'r');
  const buffer = Buffer.alloc(MAX_MESSAGE_BYTES);
  let bytes: number;
  try {
    bytes = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const written = buffer.subarray(0, bytes).toString('utf8');
  if (written) return written;
  if (container.terminationMessagePolicy !== 'FallbackToLogsOnError' || exitCode === 0) return undefined;
  const tail = logs.split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
  const tailBytes = Buffer.from(tail, 'utf8');
  return tailBytes.subarray(Math.max(0, tailBytes.length - FALLBACK_LOG_BYTES)).toString('utf8') || undefined;
}
