export { PROMPT_ENV, RUNNER_PORT, SUPERVISOR_ENV, SUPERVISOR_ENV_NAMES, runnerEnvironment, type RunnerSettings, type SupervisorSetting } from './environment.js';
export { PREPARATION_EXIT_CODES, signalExitCode, type FailingPhase } from './exit-codes.js';
export { hostAllowed, runnerAllowedHosts } from './host-allowlist.js';
export { encodeReadySignal, parseReadySignal, type ReadySignal } from './ready-signal.js';
export {
  TERMINATION_MESSAGE_MAX_BYTES,
  TERMINATION_MESSAGE_PATH,
  TERMINATION_MESSAGE_READ_BYTES,
  terminationReason,
  truncateUtf8,
} from './termination-message.js';
