import { DATABASE_URL, type RenderOptions } from './render.js';

/** Existing Secrets for everything the chart would otherwise generate or keep itself. */
export const EXISTING_SECRETS = {
  'apiKeys.existingSecret': 'team-api-keys',
  'apiKeys.existingSecretKey': 'keys',
  'jwt.existingSecret': 'team-jwt',
  'database.existingSecret': 'team-database',
  'database.existingSecretKey': 'url',
};

/**
 * The configurations every structural test runs against: the defaults (plus the one value without a
 * default), the dev and prod files, existing Secrets, and ingress-nginx with a host and TLS.
 */
export const VALUE_SETS: Record<string, RenderOptions> = {
  default: { set: { 'database.url': DATABASE_URL } },
  dev: { namespace: 'cliscale-dev', valuesFiles: ['values-dev.yaml'] },
  prod: { valuesFiles: ['values-prod.yaml'] },
  'existing secrets': { set: EXISTING_SECRETS },
  'nginx with tls': {
    release: 'term',
    namespace: 'apps',
    set: {
      'database.url': DATABASE_URL,
      'ingress.provider': 'nginx',
      'ingress.className': 'nginx',
      'ingress.host': 'term.example.org',
      'ingress.tls.enabled': true,
      'ingress.tls.secretName': 'term-tls',
    },
  },
};
