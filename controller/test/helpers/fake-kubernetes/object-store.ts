import { randomUUID } from 'node:crypto';
import { matchesSelector, type LabelSelector } from './label-selector.js';
import { kubeTime, type FakeObject, type Kind, type NewObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: ChangeType;
  /** A snapshot: later writes never change it. */
  object: FakeObject;
  resourceVersion: number;
}

/** History a watch can resume from, like the apiserver's watch cache; older versions answer 410 Gone. */
const HISTORY_LIMIT = 2_000;

/**
 * The fake cluster's etcd: every object under one global resourceVersion counter, a bounded change history
 * for watches, and synchronous change notification (in resourceVersion order).
 */
export class ObjectStore {
  private version = 1_000;
  private readonly objects = new Map<string, FakeObject>();
  private history: StoreEvent[] = [];
  /** Changes at or below this version are no longer in the history. */
  private floor = this.version;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  get resourceVersion(): string {
    return String(this.version);
  }

  /** Called synchronously, in order, for every change. Returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get<T extends FakeObject>(kind: T['kind'], namespace: string, name: string): T | undefined {
    const object = this.objects.get(key(kind, namespace, name));
    return object ? (structuredClone(object) as T) : undefined;
  }

  list<T extends FakeObject>(kind: T['kind'], namespace: string, selector?: LabelSelector): T[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && o.metadata.namespace === namespace && matchesSelector(selector, o.metadata.labels))
      .map((o) => structuredClone(o) as T);
  }

  /** Stores a new object with uid, creationTimestamp and resourceVersion; undefined if the name is taken. */
  create<T extends FakeObject>(object: NewObject<T>): T | undefined {
    const k = key(object.kind, object.metadata.namespace, object.metadata.name);
    if (this.objects.has(k)) return undefined;
    const stored = structuredClone(object) as unknown as T;
    stored.metadata.uid = object.metadata.uid ?? randomUUID();
    stored.metadata.creationTimestamp = kubeTime();
    return this.write('ADDED', k, stored);
  }

  /** Applies `change` to a copy of the object and stores it; undefined if there is no such object. */
  update<T extends FakeObject>(kind: T['kind'], namespace: string, name: string, change: (object: T) => void): T | undefined {
    const k = key(kind, namespace, name);
    const current = this.objects.get(k);
    if (!current) return undefined;
    const next = structuredClone(current) as T;
    change(next);
    return this.write('MODIFIED', k, next);
  }

  /** Removes the object for good (finalizers and grace periods are the callers' business). */
  remove<T extends FakeObject>(kind: T['kind'], namespace: string, name: string): T | undefined {
    const k = key(kind, namespace, name);
    const current = this.objects.get(k);
    if (!current) return undefined;
    return this.write('DELETED', k, structuredClone(current) as T);
  }

  /** Changes after `resourceVersion`, or 'expired' when the history no longer reaches back that far. */
  changesSince(resourceVersion: number): StoreEvent[] | 'expired' {
    if (resourceVersion < this.floor) return 'expired';
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** Forgets the whole history: a watch from any earlier version gets 410 Gone, as after an etcd compaction. */
  compact(): void {
    this.history = [];
    this.floor = this.version;
  }

  private write<T extends FakeObject>(type: ChangeType, k: string, object: T): T {
    this.version++;
    object.metadata.resourceVersion = String(this.version);
    if (type === 'DELETED') this.objects.delete(k);
    else this.objects.set(k, object);
    const event: StoreEvent = { type, object: structuredClone(object), resourceVersion: this.version };
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.floor = this.history.shift()!.resourceVersion;
    for (const listener of this.listeners) listener(event);
    return structuredClone(object);
  }
}

function key(kind: Kind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
