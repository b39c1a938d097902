import { escapeControlCharacters } from '@cliscale/service-kit';
import type { FailingPhase } from './phase-error.js';

/** What the person watching the terminal reads; every line ends with CRLF (the terminal is raw). */
const LABELS: Record<FailingPhase, string> = {
  fetching: 'fetch',
  verifying: 'verification',
  extracting: 'extraction',
  installing: 'install',
  starting: 'start',
};

/** Names from archives and URLs are untrusted: their control characters must not drive the terminal. */
const printable = escapeControlCharacters;

export const phaseLine = (title: string, detail = ''): string => `\x1b[1;36m▸ ${title}\x1b[0m${detail ? ` ${printable(detail)}` : ''}\r\n`;

export const infoLine = (text: string): string => `  ${printable(text)}\r\n`;

/** "fetch failed: HTTP 404 ...": the same words in the terminal and in the session's failure reason. */
export const failureText = (phase: FailingPhase, message: string): string => `${LABELS[phase]} failed: ${message.replace(/[\r\n]+/g, ' ')}`;

export const failureLine = (phase: FailingPhase, message: string): string =>
  `\x1b[1;31m✖ ${LABELS[phase]} failed:\x1b[0m ${printable(message.replace(/[\r\n]+/g, ' '))}\r\n`;

export const cancelledLine = (signal: string): string => `\x1b[1;33m✖ cancelled by ${signal}\x1b[0m\r\n`;
