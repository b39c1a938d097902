/**
 * /healthz and /readyz answers, the same for every service: liveness says the process serves; readiness
 * says whether what it depends on (its database) answers within the probe's budget.
 */
export type Health = { status: 'ok' } | { status: 'ok'; database: 'ok' } | { status: 'unavailable'; database: 'unavailable' };

export const HEALTHY: Health = { status: 'ok' };

export type Readiness = { status: 200; body: Health } | { status: 503; body: Health };

/** The /readyz status and body for a database check's outcome. */
export function readiness(databaseOk: boolean): Readiness {
  return databaseOk ? { status: 200, body: { status: 'ok', database: 'ok' } } : { status: 503, body: { status: 'unavailable', database: 'unavailable' } };
}
