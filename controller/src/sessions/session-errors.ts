import type { SessionStatus } from '@cliscale/database';

/**
 * What can go wrong with a session, in the session's own terms. Session logic throws these; the HTTP layer
 * (http/error-handler.ts) alone decides which status, body and headers each one becomes.
 */
export abstract class SessionError extends Error {}

/** The request asks for something the rules do not allow (`field`: the request field at fault, if one is). */
export class InvalidRequest extends SessionError {
  override name = 'InvalidRequest';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export class SessionNotFound extends SessionError {
  override name = 'SessionNotFound';
  constructor(readonly sessionId: string) {
    super(`no session ${sessionId}`);
  }
}

/** The session exists but belongs to another API key. */
export class NotYourSession extends SessionError {
  override name = 'NotYourSession';
  constructor(readonly sessionId: string) {
    super('this session belongs to another API key');
  }
}

/** The session has already ended (`status` says how), so it can be neither cancelled nor connected to. */
export class SessionFinished extends SessionError {
  override name = 'SessionFinished';
  constructor(
    readonly status: SessionStatus,
    /** What cannot be done any more, appended to the message. */
    consequence?: string,
  ) {
    super(`session already ${status}${consequence ? `: ${consequence}` : ''}`);
  }
}

/** The caller's API key already has as many active sessions as it may. */
export class TooManyActiveSessions extends SessionError {
  override name = 'TooManyActiveSessions';
  constructor(
    readonly active: number,
    readonly limit: number,
  ) {
    super(`too many active sessions for this API key (${active} of ${limit}); wait for one to end or cancel one`);
  }
}

/** Something the session depends on (the code host's DNS) cannot answer right now; the request may be retried. */
export class DependencyUnavailable extends SessionError {
  override name = 'DependencyUnavailable';
  constructor(
    message: string,
    /** When to try again, if there is a useful hint. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The session was created but its runner could not be; the session is recorded as failed. */
export class LaunchFailed extends SessionError {
  override name = 'LaunchFailed';
  constructor(
    readonly sessionId: string,
    reason: string,
    /** The backend was unreachable (a retry may work), rather than refusing the runner. */
    readonly retryAfterSeconds?: number,
  ) {
    super(reason);
  }

  get retryable(): boolean {
    return this.retryAfterSeconds !== undefined;
  }
}
