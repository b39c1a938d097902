/** What GET /api/sessions/{id} answers, as far as the tests look at it. */
export type SessionView = Record<string, any> & { status: string; exitCode: number | null; failureReason: string | null };

/**
 * Polls GET /api/sessions/{id} through `api` (a test controller's or local mode's) until the session has
 * ended, and returns that view; fails after 30 s.
 */
export async function finalState(api: (path: string) => Promise<Response>, sessionId: string): Promise<SessionView> {
  for (let i = 0; i < 300; i++) {
    const view = (await (await api(`/api/sessions/${sessionId}`)).json()) as SessionView;
    if (['succeeded', 'failed', 'cancelled', 'expired'].includes(view.status)) return view;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`session ${sessionId} did not end`);
}
