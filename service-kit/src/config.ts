import type { Command } from 'commander';
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

/**
 * Parses the command line with `program` and returns the flags given as the environment variables they
 * stand for (`{port: 'PORT'}`), to be laid over the environment. --help prints and throws commander's
 * `commander.helpDisplayed`; a bad flag throws ConfigError.
 */
export function flagsAsEnv(program: Command, argv: string[], envNames: Record<string, string>): Record<string, string> {
  const cli = program.exitOverride().configureOutput({ writeErr: () => {} });
  try {
    cli.parse(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'commander.helpDisplayed') throw err;
    throw new ConfigError(e.message.replace(/^error: /, ''));
  }
  const flags = cli.opts<Record<string, string | undefined>>();
  return Object.fromEntries(Object.entries(envNames).flatMap(([flag, name]) => (flags[flag] === undefined ? [] : [[name, flags[flag]]])));
}

/** For a program's main: the configuration, or exit 0 after --help (already printed) / 2 with the reason. */
export function configOrExit<T>(name: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if ((err as { code?: string }).code === 'commander.helpDisplayed') process.exit(0);
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
