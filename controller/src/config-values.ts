import { z } from 'zod';

/** zod parsers for environment values, shared by the controller's and the gateway's configuration. */

export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''].includes(v), 'must be true or false')
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/** TRUST_PROXY: false (default), true, a hop count, or addresses/CIDRs of the proxies (express's setting). */
export const trustProxy = z.string().transform((v): boolean | number | string[] => {
  const t = v.trim().toLowerCase();
  if (['', 'false', '0', 'no'].includes(t)) return false;
  if (['true', 'yes'].includes(t)) return true;
  if (/^\d+$/.test(t)) return Number(t);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
});

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

export const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

/** Flags over environment, empty values as unset, then the schema; every problem named by its variable. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, unknown>): z.infer<T> {
  const merged = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '' && v !== undefined));
  const parsed = schema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
