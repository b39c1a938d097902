import { Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import { SUPERVISOR_ENV, type SupervisorSetting } from '@cliscale/runner-contract';

/**
 * The command line: each flag stands for one environment variable (runner contract's SUPERVISOR_ENV), and
 * its value is that variable's text, checked by the variable's schema as it is parsed (so a bad flag is
 * named as the flag). Commander holds no defaults: the schema has them, and the help shows them from it.
 */

/** A flag that takes a value: the value of the setting's variable. */
export interface ValueFlag {
  setting: SupervisorSetting;
  flags: string;
  description: string;
  /** The default as the help shows it, when its JSON is not the way to say it. */
  defaultText?: string;
  choices?: readonly string[];
}

/** A flag without a value: it sets the setting's variable to `sets` (`--no-exit` is EXIT_ON_JOB=false). */
export interface SwitchFlag {
  setting: SupervisorSetting;
  flags: string;
  description: string;
  sets: 'true' | 'false';
}

export interface ProgramSpec {
  name: string;
  description: string;
  usage: string;
  argument: { name: string; description: string };
  values: ValueFlag[];
  switches: SwitchFlag[];
  /** Flags that stand for no variable (a repeatable `-t key=value`). */
  extra: Option[];
  /** Every variable's schema, by name. */
  variables: Record<string, z.ZodType>;
  epilog: string;
}

const attributeName = (flags: string) => new Option(flags).attributeName();

function defaultOf(schema: z.ZodType | undefined, text: string | undefined): string | undefined {
  if (text !== undefined) return text;
  const parsed = schema?.safeParse(undefined);
  return parsed?.success && parsed.data !== undefined ? JSON.stringify(parsed.data) : undefined;
}

export function buildProgram(spec: ProgramSpec): Command {
  const program = new Command(spec.name).description(spec.description).usage(spec.usage).argument(spec.argument.name, spec.argument.description);
  for (const flag of spec.values) {
    const name = SUPERVISOR_ENV[flag.setting];
    const schema = spec.variables[name];
    // Worded as commander words its own choices and defaults.
    const fallback = defaultOf(schema, flag.defaultText);
    const extra = [
      ...(flag.choices ? [`choices: ${flag.choices.map((c) => JSON.stringify(c)).join(', ')}`] : []),
      ...(fallback === undefined ? [] : [`default: ${fallback}`]),
    ];
    const option = new Option(flag.flags, `${flag.description} (env: ${name})${extra.length ? ` (${extra.join(', ')})` : ''}`);
    option.argParser((raw: string) => {
      const parsed = schema?.safeParse(raw);
      if (parsed && !parsed.success) throw new InvalidArgumentError(parsed.error.issues.map((i) => i.message).join('; '));
      return raw;
    });
    program.addOption(option);
  }
  for (const flag of spec.switches) {
    program.addOption(new Option(flag.flags, `${flag.description} (env: ${SUPERVISOR_ENV[flag.setting]}=true|false)`));
  }
  for (const option of spec.extra) program.addOption(option);
  return program.addHelpText('after', spec.epilog);
}

/** For service-kit's flagsAsEnv: option attribute → variable name, for the flags that take a value. */
export function valueFlagVariables(values: ValueFlag[]): Record<string, string> {
  return Object.fromEntries(values.map((f) => [attributeName(f.flags), SUPERVISOR_ENV[f.setting]]));
}

/** The switches given on the command line (after parsing), as the variables they stand for. */
export function switchesAsEnv(program: Command, switches: SwitchFlag[]): Record<string, string> {
  return Object.fromEntries(
    switches
      .filter((f) => program.getOptionValueSource(attributeName(f.flags)) === 'cli')
      .map((f) => [SUPERVISOR_ENV[f.setting], f.sets]),
  );
}
