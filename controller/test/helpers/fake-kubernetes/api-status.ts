/** The apiserver's `Status` error bodies, shaped like the real ones (client-node surfaces `message`). */
export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: Array<{ reason: string; message: string; field: string }> };
  code: number;
}

/** Resource as the apiserver names it in messages: `jobs.batch`, `pods`. */
export interface ResourceRef {
  resource: 'jobs' | 'pods';
  group: '' | 'batch';
}

const qualified = (r: ResourceRef) => (r.group ? `${r.resource}.${r.group}` : r.resource);

function failure(code: number, reason: string, message: string, details?: StatusBody['details']): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const statusBodies = {
  notFound: (r: ResourceRef, name: string) =>
    failure(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group, kind: r.resource }),
  noRoute: () => failure(404, 'NotFound', 'the server could not find the requested resource'),
  alreadyExists: (r: ResourceRef, name: string) =>
    failure(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group, kind: r.resource }),
  invalid: (kind: string, group: string, name: string, field: string, problem: string) =>
    failure(422, 'Invalid', `${kind}.${group} "${name}" is invalid: ${field}: ${problem}`, {
      name,
      group,
      kind,
      causes: [{ reason: 'FieldValueInvalid', message: problem, field }],
    }),
  badRequest: (message: string) => failure(400, 'BadRequest', message),
  unauthorized: () => failure(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (r: ResourceRef, verb: string, namespace: string) =>
    failure(
      403,
      'Forbidden',
      `${qualified(r)} is forbidden: User "system:serviceaccount:cliscale:cliscale-controller" cannot ${verb} resource "${r.resource}" in API group "${r.group}" in the namespace "${namespace}"`,
      { kind: r.resource, group: r.group },
    ),
  gone: (requested: number, current: string) => failure(410, 'Expired', `too old resource version: ${requested} (${current})`),
  unavailable: () => failure(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
  success: (r: ResourceRef, name: string, uid: string): StatusBody => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, group: r.group, kind: r.resource, uid },
    code: 200,
  }),
};
