import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Express } from 'express';
import { createTestDatabase, type TestDatabase } from '@cliscale/test-kit/test-database';
import { startTestController, type TestController } from './helpers/controller-harness.js';

let t: TestDatabase;
let c: TestController;

beforeAll(async () => {
  t = await createTestDatabase();
  c = await startTestController({ databaseUrl: t.url });
});
afterAll(async () => {
  await c?.close();
  await t?.drop();
});

interface Layer {
  rawPath?: string;
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route express would answer, as "METHOD /path/{param}". */
function expressRoutes(stack: Layer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path === '/' && prefix ? '' : layer.route.path}`.replace(/:(\w+)/g, '{$1}');
      return Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${path}`);
    }
    if (layer.handle?.stack) return expressRoutes(layer.handle.stack, layer.rawPath && layer.rawPath !== '/' ? `${prefix}${layer.rawPath}` : prefix);
    return [];
  });
}

describe('/api/openapi.json', () => {
  it('documents exactly the routes the server has', async () => {
    const res = await fetch(`${c.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const app = (c.controller.server.listeners('request')[0] as Express & { router: { stack: Layer[] } });
    expect(expressRoutes(app.router.stack).sort()).toEqual(documented.sort());
  });

  it('requires an API key exactly where it documents one, and documents the statuses the routes answer', async () => {
    const doc = (await (await fetch(`${c.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
      components: { securitySchemes: unknown };
    };
    const sample = '00000000-0000-4000-8000-0000000000ff';
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const res = await c.api(path.replace('{id}', sample), { method: method.toUpperCase(), key: null });
        if (op.security) {
          expect([method, path, res.status]).toEqual([method, path, 401]);
          expect(op.responses['401']).toBeDefined();
        } else {
          expect([method, path, Object.keys(op.responses)]).toEqual([method, path, expect.arrayContaining([String(res.status)])]);
        }
      }
    }
    expect(doc.components.securitySchemes).toEqual({ apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from the API_KEYS setting.' } });
  });

  it('describes the request body with the same rules the server enforces', async () => {
    const doc = (await (await fetch(`${c.url}/api/openapi.json`)).json());
    const request = doc.components.schemas.CreateSessionRequest;
    expect(request.required).toEqual(['code_url']);
    expect(request.additionalProperties).toBe(false);
    expect(request.properties.code_url.maxLength).toBe(2048);
    expect(request.properties.code_checksum_sha256.pattern).toBe('^[A-Fa-f0-9]{64}$');
    const post = doc.paths['/api/sessions'].post;
    expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '401', '413', '415', '429', '503']);
    expect(post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/CreateSessionResponse');
    const created = doc.components.schemas.CreateSessionResponse;
    expect(created.required).toEqual(expect.arrayContaining(['sessionId', 'wsUrl', 'token', 'terminalUrl', 'status']));
  });
});

describe('health, readiness and metrics', () => {
  it('answers /healthz and /readyz (which asks the database)', async () => {
    expect(await (await fetch(`${c.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${c.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('exports sessions by status from the database and request latency by route', async () => {
    await t.insertSession({ id: '00000000-0000-4000-8000-00000000000a', owner: 'x', status: 'failed', expires_at: new Date() });
    await c.api('/api/sessions/00000000-0000-4000-8000-00000000000a');
    const text = await (await fetch(`${c.url}/metrics`)).text();
    expect(text).toMatch(/^cliscale_sessions\{status="failed"\} 1$/m);
    expect(text).toMatch(/^cliscale_sessions\{status="running"\} 0$/m);
    expect(text).toMatch(/cliscale_http_request_duration_seconds_count\{method="GET",route="\/api\/sessions\/:id",status="403"\} 1/);
    expect(text).toContain('cliscale_runner_start_seconds_bucket');
    expect(text).toContain('process_resident_memory_bytes');
  });
});
