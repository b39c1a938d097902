import { eventually } from './eventually.js';

/** What GET /api/sessions/{id} answers, as far as the tests look at it. */
export type SessionView = Record<string, any> & { status: string; exitCode: number | null; failureReason: string | null };

const FINISHED = ['succeeded', 'failed', 'cancelled', 'expired'];

/**
 * Polls GET /api/sessions/{id} through `api` (a test controller's or local mode's) until the session has
 * ended, and returns that view; fails after 30 s.
 */
export async function finalState(api: (path: string) => Promise<Response>, sessionId: string): Promise<SessionView> {
  return eventually(
    async () => {
      const view = (await (await api(`/api/sessions/${sessionId}`)).json()) as SessionView;
      return FINISHED.includes(view.status) && view;
    },
    30_000,
    `session ${sessionId} to end`,
  );
}
