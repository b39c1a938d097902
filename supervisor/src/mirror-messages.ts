import type { ScreenDump } from '@cliscale/terminal-screen';

/** Messages between the supervisor's main thread and the terminal-model worker. Order is the contract. */
export type ToMirror =
  | { t: 'data'; bytes: Uint8Array }
  | { t: 'resize'; columns: number; rows: number }
  /** `screenOnly`: the current screen without scrollback, for a client catching up with a flood. */
  | { t: 'snapshot'; id: number; screenOnly: boolean }
  | { t: 'dump'; id: number; maxLines: number };

export type FromMirror =
  | { t: 'parsed'; bytes: number }
  /** `complete: false` is the current screen only; the complete snapshot of the same offset follows. */
  | { t: 'snapshot'; id: number; data: Uint8Array; complete: boolean }
  | { t: 'dump'; id: number; dump: ScreenDump };

export interface MirrorInit {
  columns: number;
  rows: number;
  scrollback: number;
}
