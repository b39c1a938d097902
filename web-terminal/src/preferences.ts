/**
 * The SET_PREFERENCES message, applied like ttyd's client: the page's defaults, then the server's JSON, then the
 * page URL's query parameters (`?fontSize=20`, coerced to the type of the current value). Keys that are xterm
 * options go to `term.options` (objects such as `theme` are merged); the client options below are handled here;
 * ttyd-only features we do not have (zmodem, trzsz, sixel, renderers, leave alert…) are ignored. An unknown key
 * or a value xterm refuses is skipped, never fatal.
 */
export interface ClientOptions {
  /** cliscale's key (ttyd has none): the viewer cannot type. Shown as "read-only" in the status bar. */
  readOnly: boolean;
  /** ttyd's: a fixed page title; titles from the server or the program (OSC 0/2) are then ignored. */
  titleFixed: string | undefined;
}

/** ttyd client options we accept but have no use for. */
const IGNORED_TTYD_KEYS = new Set([
  'rendererType',
  'disableLeaveAlert',
  'disableResizeOverlay',
  'disableReconnect',
  'closeOnDisconnect',
  'enableZmodem',
  'enableTrzsz',
  'trzszDragInitTimeout',
  'enableSixel',
  'isWindows',
  'unicodeVersion',
]);

/**
 * xterm options a server must not set: construction-only sizes (the page fits the window), hooks that take
 * functions or objects from the page, and `disableStdin` (use `readOnly`, which the status bar knows about).
 */
const FORBIDDEN_XTERM_KEYS = new Set([
  'cols',
  'rows',
  'disableStdin',
  'documentOverride',
  'linkHandler',
  'logger',
  'windowOptions',
  'allowProposedApi',
]);

/** The part of an xterm Terminal this module touches (an interface, so it can be tested without a DOM). */
export interface OptionsHolder {
  options: Record<string, unknown>;
}

export interface AppliedPreferences {
  client: ClientOptions;
  applied: string[];
  ignored: string[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * xterm checks few option values itself (a string `theme` or `fontSize` is taken and breaks rendering), so a
 * value must have the type of the option's current value. Unset options (null/undefined) take anything.
 */
function sameKind(current: unknown, value: unknown): boolean {
  if (current === undefined || current === null) return true;
  if (isPlainObject(current)) return isPlainObject(value);
  if (typeof current === 'number') return typeof value === 'number' && Number.isFinite(value);
  return typeof current === typeof value;
}

/** Query parameters as preference values, typed after the value they replace (like ttyd's client). */
export function preferencesFromQuery(search: string, current: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of new URLSearchParams(search)) {
    const existing = key in current ? current[key] : undefined;
    if (typeof existing === 'number') {
      const n = Number(raw);
      if (raw !== '' && Number.isFinite(n)) out[key] = n;
    } else if (typeof existing === 'boolean') {
      out[key] = raw === 'true' || raw === '1' || raw === '';
    } else if (isPlainObject(existing)) {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (isPlainObject(parsed)) out[key] = parsed;
      } catch {
        // not JSON: ignored, like any value xterm would refuse
      }
    } else {
      out[key] = raw;
    }
  }
  return out;
}

export function applyPreferences(
  term: OptionsHolder,
  client: ClientOptions,
  preferences: Record<string, unknown>,
): AppliedPreferences {
  const next = { ...client };
  const applied: string[] = [];
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(preferences)) {
    if (key === 'readOnly') {
      next.readOnly = value === true || value === 'true';
      applied.push(key);
      continue;
    }
    if (key === 'titleFixed') {
      next.titleFixed = typeof value === 'string' && value !== '' ? value : undefined;
      applied.push(key);
      continue;
    }
    if (IGNORED_TTYD_KEYS.has(key) || FORBIDDEN_XTERM_KEYS.has(key) || !(key in term.options)) {
      ignored.push(key);
      continue;
    }
    const current = term.options[key];
    if (!sameKind(current, value)) {
      ignored.push(key);
      continue;
    }
    try {
      term.options[key] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
      applied.push(key);
    } catch {
      ignored.push(key);
    }
  }
  return { client: next, applied, ignored };
}
