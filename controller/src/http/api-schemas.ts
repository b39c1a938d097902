import 'zod-openapi';
import { z } from 'zod';
import { SESSION_STATUSES } from '@cliscale/database';
import { PROMPT_ENV, SUPERVISOR_ENV_NAMES } from '@cliscale/runner-contract';

/**
 * The API's request and response shapes: requests are validated with them, responses are built through
 * them, and /api/openapi.json is generated from them. One definition, so the three cannot drift apart.
 */

const noNul = (s: string) => !s.includes('\0');

/** Variables a caller may not set: the supervisor's own settings and what the process or the pod relies on. */
const RESERVED_ENV = new Set([...SUPERVISOR_ENV_NAMES, 'PATH', 'HOME', 'USER', 'SHELL', 'TERM', 'TMPDIR', 'PWD', 'HOSTNAME', PROMPT_ENV]);
const RESERVED_ENV_PREFIXES = ['LD_', 'NODE_', 'KUBERNETES_', 'CLISCALE_', 'GIT_', 'npm_config_', 'NPM_CONFIG_'];
export const MAX_ENV_ENTRIES = 32;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Why `name` cannot be a session's environment variable, or undefined when it can. */
function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return `${JSON.stringify(name)}: environment variable names are letters, digits and _, not starting with a digit`;
  if (RESERVED_ENV.has(name) || RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p))) return `${name} is reserved for the runner and cannot be set`;
  return undefined;
}

export const CreateSessionRequest = z
  .strictObject({
    code_url: z.string().min(1).max(2048).meta({
      description: 'Where the code comes from: a GitHub tree URL, a git repository (.git[#ref]) or a .zip/.tar.gz/.tar archive, over https.',
      example: 'https://github.com/arakoodev/cliscale/tree/main/sample-cli',
    }),
    command: z.string().min(1).max(4096).refine(noNul, 'command may not contain NUL').optional().meta({
      description: 'Shell command run in the code directory (by /bin/sh -c, as data: never spliced into another command). Default: the server\'s DEFAULT_COMMAND.',
      example: 'node index.js',
    }),
    install_cmd: z.string().max(4096).refine(noNul, 'install_cmd may not contain NUL').optional().meta({
      description: 'Install command run before `command`. Default: npm ci / npm install when there is a package.json; "" skips installing.',
    }),
    prompt: z.string().max(10_000).refine(noNul, 'prompt may not contain NUL').optional().meta({ description: 'Given to the command as the PROMPT environment variable.' }),
    code_checksum_sha256: z.string().regex(/^[A-Fa-f0-9]{64}$/, 'code_checksum_sha256 must be 64 hex digits').optional().meta({
      description: 'SHA-256 the downloaded archive must have; the session fails before anything runs otherwise.',
    }),
    env: z
      .record(z.string(), z.string().max(4096).refine(noNul, 'environment values may not contain NUL'))
      .superRefine((env, ctx) => {
        const names = Object.keys(env);
        if (names.length > MAX_ENV_ENTRIES) ctx.addIssue({ code: 'custom', message: `env may hold at most ${MAX_ENV_ENTRIES} variables` });
        for (const name of names) {
          const problem = envNameProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
        }
      })
      .optional()
      .meta({ description: 'Extra environment variables for the command.' }),
  })
  .meta({ id: 'CreateSessionRequest' });
export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;

export const CreateSessionQuery = z.object({
  wait: z.enum(['ready']).optional().meta({ description: 'ready: answer once the runner is reachable (or has ended), for scripts.' }),
  wait_timeout: z.coerce.number().int().min(1).optional().meta({ description: 'Seconds to wait with wait=ready (bounded by the server).' }),
});

export const SessionIdParams = z.object({
  id: z.uuid({ error: 'session id must be a UUID' }).meta({ description: 'Session id', example: '6f1c2b8e-8d4a-4c55-9f1e-3b2a1c0d9e8f' }),
});

export const SessionStatus = z.enum(SESSION_STATUSES).meta({
  id: 'SessionStatus',
  description: 'pending: accepted; starting: the runner is being created or is fetching/installing; running: the terminal is reachable; then one of succeeded, failed, cancelled, expired.',
});

export const Session = z
  .object({
    sessionId: z.uuid(),
    status: SessionStatus,
    exitCode: z.number().int().nullable().meta({ description: "The command's exit code once it has ended by itself." }),
    failureReason: z.string().nullable(),
    codeUrl: z.string(),
    command: z.string(),
    installCmd: z.string().nullable(),
    envNames: z.array(z.string()).meta({ description: 'Names of the extra environment variables (values are not returned).' }),
    runner: z.object({ backend: z.enum(['local', 'kubernetes']), name: z.string().nullable() }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    runningAt: z.iso.datetime().nullable(),
    endedAt: z.iso.datetime().nullable(),
    expiresAt: z.iso.datetime().meta({ description: 'The runner is stopped at this time at the latest.' }),
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof Session>;

const terminalAccess = {
  token: z.string().meta({ description: 'One-time RS256 JWT for the gateway; valid for a few minutes and for one connection.' }),
  terminalUrl: z.url().meta({ description: 'Open in a browser: the terminal page (the gateway swaps the token for a cookie).' }),
  wsUrl: z.url().meta({ description: 'WebSocket (subprotocol tty) for programmatic clients; present the token as ?token= or Bearer.' }),
  tokenExpiresAt: z.iso.datetime(),
};

export const CreateSessionResponse = z
  .object({ sessionId: z.uuid(), status: SessionStatus, ...terminalAccess, session: Session })
  .meta({ id: 'CreateSessionResponse' });

export const TokenRequest = z
  .strictObject({ mode: z.enum(['interact', 'view']).default('interact').meta({ description: 'view: a read-only terminal.' }) })
  .meta({ id: 'TokenRequest' });

export const TokenResponse = z.object({ sessionId: z.uuid(), mode: z.enum(['interact', 'view']), ...terminalAccess }).meta({ id: 'TokenResponse' });

export const ListSessionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page.' }),
  status: SessionStatus.optional(),
});

export const SessionList = z
  .object({ sessions: z.array(Session), nextCursor: z.string().nullable().meta({ description: 'Pass as cursor for the next page; null on the last.' }) })
  .meta({ id: 'SessionList' });

export const ApiError = z
  .object({ error: z.string().meta({ description: 'What went wrong, for a person.' }) })
  .catchall(z.unknown())
  .meta({ id: 'Error' });

export const Jwks = z
  .object({ keys: z.array(z.object({ kty: z.literal('RSA'), kid: z.string(), alg: z.literal('RS256'), use: z.literal('sig'), n: z.string(), e: z.string() })) })
  .meta({ id: 'JWKS' });

export const Health = z.object({ status: z.enum(['ok', 'unavailable']), database: z.enum(['ok', 'unavailable']).optional() }).meta({ id: 'Health' });
