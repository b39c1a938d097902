import type { SessionRow } from '@cliscale/database';
import { runnerAllowedHosts, runnerEnvironment } from '@cliscale/runner-contract';
import type { CodeUrlPolicy } from './code-url-policy.js';

/**
 * The session's part of its runner's environment (the runner contract): code, command, prompt, credential
 * and where code may come from, over the caller's own variables. Every value is data; nothing here is ever
 * part of a command line.
 */
export function runnerEnv(session: Pick<SessionRow, 'code_url' | 'command' | 'install_cmd' | 'prompt' | 'code_checksum_sha256' | 'env' | 'runner_credential'>, policy: CodeUrlPolicy): Record<string, string> {
  return runnerEnvironment(
    {
      codeUrl: session.code_url,
      command: session.command,
      installCmd: session.install_cmd ?? undefined,
      prompt: session.prompt ?? undefined,
      checksumSha256: session.code_checksum_sha256 ?? undefined,
      // Only the gateway knows it: nothing else can attach to the runner's terminal.
      credential: session.runner_credential,
      allowedCodeHosts: runnerAllowedHosts(policy.allowedHosts),
      allowHttp: policy.allowHttp,
      allowLocalCode: policy.allowLocal,
    },
    session.env,
  );
}
