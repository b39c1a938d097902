/**
 * Text from outside (a database row, a runner's message, a file name in an archive) must not drive a
 * terminal or forge log lines: its C0/C1 control characters go. Two ways, for two purposes.
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;
const CONTROL_RUNS = /[\x00-\x1f\x7f-\x9f]+/g;

/** For prose (a failure reason, a notice): each run of control characters becomes one space, ends trimmed. */
export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL_RUNS, ' ').trim();
}

/** For names that must stay exact (a file, a URL): each control character is shown as `\xNN`. */
export function escapeControlCharacters(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
