// The shells every terminal workload runs in: bash in the supervisor (with a WebSocket client) and in tmux.
import { Supervisor } from './supervisor.js';
import { Tmux } from './tmux.js';

export const PROMPT = 'bench$ ';
export const SHELL = ['bash', '--norc', '--noprofile'];
export const HISTORY = 100_000;

export function shellEnv() {
  const env = { ...process.env, PS1: PROMPT, HISTFILE: '', LC_ALL: 'C' };
  delete env.TMUX;
  delete env.PROMPT_COMMAND;
  return env;
}

export async function startSupervisorWithClient(protocol, env) {
  const sup = await Supervisor.start({ command: SHELL, env, scrollback: HISTORY });
  const client = await sup.connect({ protocol });
  await client.waitFor(PROMPT, 10_000).catch(async (err) => {
    const screen = await sup.screen(24).catch(() => undefined);
    throw new Error(`${err.message}; screen: ${JSON.stringify(screen?.dump.lines)}`);
  });
  await client.quiet(200);
  return { sup, client };
}

export async function startTmux(tmuxBin, env, tag) {
  const tm = await Tmux.start({ bin: tmuxBin, socket: `cliscale-bench-${process.pid}-${tag}`, command: SHELL, env, historyLimit: HISTORY });
  await tm.openControl(); // capture-pane polling through one control-mode client (see lib/tmux.js)
  await tm.waitFor(PROMPT.trimEnd(), { timeoutMs: 10_000 }); // capture-pane trims trailing spaces
  return tm;
}
