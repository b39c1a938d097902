import type { SessionRow } from '@cliscale/migrations';
import type { CodeUrlPolicy } from './code-url-policy.js';

/**
 * The supervisor's environment contract for one session (supervisor/README.md). Every value is passed as
 * an environment variable, as data; nothing here is ever part of a command line.
 */
export function runnerEnv(session: Pick<SessionRow, 'code_url' | 'command' | 'install_cmd' | 'prompt' | 'code_checksum_sha256' | 'env' | 'runner_credential'>, policy: CodeUrlPolicy): Record<string, string> {
  return {
    ...session.env,
    CODE_URL: session.code_url,
    COMMAND: session.command,
    ...(session.install_cmd !== null && { INSTALL_CMD: session.install_cmd }),
    ...(session.prompt !== null && { PROMPT: session.prompt }),
    ...(session.code_checksum_sha256 !== null && { CODE_CHECKSUM_SHA256: session.code_checksum_sha256.toLowerCase() }),
    // Only the gateway knows it: nothing else can attach to the runner's terminal.
    CREDENTIAL: session.runner_credential,
    ...(policy.allowedHosts.length > 0 && { ALLOWED_CODE_HOSTS: runnerAllowedHosts(policy.allowedHosts).join(',') }),
    ...(policy.allowHttp && { ALLOW_HTTP: 'true' }),
    ...(policy.allowLocal && { ALLOW_LOCAL_CODE: 'true' }),
  };
}

/**
 * Hosts the runner may download from, redirects included: each allowed host and its subdomains (GitHub
 * serves archives of github.com from codeload.github.com).
 */
export function runnerAllowedHosts(allowed: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const host of allowed) {
    hosts.add(host);
    if (!host.startsWith('*.')) hosts.add(`*.${host}`);
  }
  return [...hosts];
}
