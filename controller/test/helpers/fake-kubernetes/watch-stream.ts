import type { ServerResponse } from 'node:http';
import { statusBodies } from './api-status.js';
import { matchesSelector, type LabelSelector } from './label-selector.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import type { FakeObject, Kind } from './types.js';

export interface WatchRequest {
  kind: Kind;
  apiVersion: string;
  namespace: string;
  selector: LabelSelector;
  /** Absent or "0": start with a synthetic ADDED for every existing object. */
  resourceVersion?: string;
  bookmarks: boolean;
  bookmarkIntervalMs: number;
  timeoutSeconds?: number;
}

export interface ServedWatch {
  /** The requested resourceVersion was compacted away: the stream was one `ERROR` 410 event. */
  expired: boolean;
  /** Ends the stream abruptly (a dropped connection). */
  drop: () => void;
}

/**
 * One `?watch=true` response: newline-delimited JSON events, replayed from the store's history after the
 * requested resourceVersion and then live, in resourceVersion order with no gap; `ERROR` 410 when that
 * version was compacted away.
 */
export function serveWatch(store: ObjectStore, request: WatchRequest, res: ServerResponse): ServedWatch {
  const matches = (object: FakeObject) =>
    object.kind === request.kind && object.metadata.namespace === request.namespace && matchesSelector(request.selector, object.metadata.labels);
  const send = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  const from = request.resourceVersion;
  if (from && from !== '0') {
    const backlog = store.changesSince(Number(from));
    if (backlog === 'expired') {
      send('ERROR', statusBodies.gone(Number(from), store.resourceVersion));
      res.end();
      return { expired: true, drop: () => undefined };
    }
    for (const event of backlog) if (matches(event.object)) send(event.type, event.object);
  } else {
    for (const object of store.list(request.kind, request.namespace, request.selector)) send('ADDED', object);
  }

  // Same tick as the backlog: no change can fall between the two.
  const unsubscribe = store.subscribe((event: StoreEvent) => {
    if (matches(event.object)) send(event.type, event.object);
  });
  const bookmarkTimer = request.bookmarks
    ? setInterval(() => send('BOOKMARK', { kind: request.kind, apiVersion: request.apiVersion, metadata: { resourceVersion: store.resourceVersion } }), request.bookmarkIntervalMs)
    : undefined;
  const timeoutTimer = request.timeoutSeconds ? setTimeout(() => res.end(), request.timeoutSeconds * 1000) : undefined;
  const stop = () => {
    unsubscribe();
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
  };
  res.on('close', stop);
  const drop = () => {
    stop();
    res.destroy();
  };
  return { expired: false, drop };
}
