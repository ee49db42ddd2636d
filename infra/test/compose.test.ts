import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { providersEnvShape } from '@gptmarket/providers';
import { APPS, exists, read } from './repo.js';

/** Static checks of docker-compose.prod.yml (no Docker engine runs here): the rules docs/DEPLOYMENT.md relies on. */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  restart?: string;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: string | number; resources?: { limits?: { cpus?: string; memory?: string } } };
  logging?: { driver: string; options?: Record<string, string> };
  environment?: Record<string, string>;
  volumes?: string[];
  stop_grace_period?: string;
  container_name?: string;
}
const compose = parse(read('docker-compose.prod.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const publicOverride = parse(read('docker-compose.temporal-public.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
/** Jobs that run once and exit: no health check, restart "no", and their dependants wait for success. */
const ONE_SHOT = new Set(['temporal-schema', 'temporal-namespace']);
const seconds = (d: string) => {
  const m = /^(\d+)(s|m)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

describe('docker-compose.prod.yml', () => {
  it('has the expected services', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'app-db',
        'gateway',
        'gateway-2',
        'redis',
        'generation-worker',
        'media-worker',
        'temporal',
        'temporal-db',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
      ].sort(),
    );
  });

  it('gives every service limits, a restart policy, log rotation and (long-running ones) a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.deploy?.resources?.limits?.memory, `${name} memory limit`).toBeTruthy();
      expect(s.deploy?.resources?.limits?.cpus, `${name} cpu limit`).toBeTruthy();
      expect(s.logging?.driver, `${name} logging`).toBe('json-file');
      expect(s.logging?.options?.['max-size'], `${name} log rotation`).toMatch(/^\d+m$/);
      expect(s.logging?.options?.['max-file'], `${name} log rotation`).toMatch(/^\d+$/);
      expect(s.container_name, `${name} must not pin container_name (it breaks replicas)`).toBeUndefined();
      if (ONE_SHOT.has(name)) {
        expect(s.restart, `${name} is a one-shot job`).toBe('no');
        expect(s.healthcheck, `${name} is a one-shot job`).toBeUndefined();
      } else {
        expect(s.restart, `${name} restart`).toBe('unless-stopped');
        expect(s.healthcheck?.test, `${name} health check`).toBeTruthy();
      }
    }
  });

  it('publishes only the gateway (HOST_PORT, on loopback unless set) and the Temporal UI on loopback', () => {
    const published = Object.entries(services)
      .filter(([, s]) => s.ports?.length)
      .map(([n]) => n)
      .sort();
    expect(published).toEqual(['gateway', 'temporal-ui']);
    expect(services.gateway!.ports).toEqual(['${HOST_PORT:-127.0.0.1:8000}:3000']);
    for (const p of services['temporal-ui']!.ports!) expect(p.startsWith('127.0.0.1:'), p).toBe(true);
    expect(services.temporal!.ports).toBeUndefined();
  });

  it("trusts one proxy hop by default (Dokploy's Traefik), so per-IP limits see client addresses", () => {
    expect(services.gateway!.environment?.TRUST_PROXY_HOPS).toBe('${TRUST_PROXY_HOPS:-1}');
  });

  it('publishes Temporal gRPC only through the opt-in override, behind nginx demanding client certificates', () => {
    expect(Object.keys(publicOverride.services)).toEqual(['temporal-tls-proxy']);
    const proxy = publicOverride.services['temporal-tls-proxy']!;
    expect(proxy.ports).toEqual(['${TEMPORAL_PUBLIC_PORT:-7233}:7233']);
    expect(proxy.image).toMatch(/^nginx:[0-9][\w.-]*$/);
    expect(proxy.depends_on?.temporal?.condition).toBe('service_healthy');
    expect(proxy.environment?.TEMPORAL_UPSTREAM).toBe('temporal:7233');
    expect(proxy.restart).toBe('unless-stopped');
    expect(proxy.healthcheck?.test).toBeTruthy();
    expect(proxy.deploy?.resources?.limits?.memory).toBeTruthy();
    expect(proxy.logging?.options?.['max-size']).toMatch(/^\d+m$/);
    // The template it mounts is the one the TLS test runs (packages/testkit/src/tls-proxy.ts); no CA key is mounted.
    const template = 'infra/temporal-tls/temporal-grpc.conf.template';
    expect(exists(template)).toBe(true);
    expect(proxy.volumes).toContain(`./${template}:/etc/nginx/templates/temporal-grpc.conf.template:ro`);
    expect(proxy.volumes!.some((v) => v.includes('ca.key'))).toBe(false);
    expect(read(template)).toMatch(/^\s*ssl_verify_client\s+on;/m);
    expect(read(template)).toMatch(/grpc_pass grpc:\/\/\$\{TEMPORAL_UPSTREAM\};/);
  });

  it('pins every image tag and uses the server image with a schema job, not auto-setup', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/^[a-z0-9/._-]+:[0-9][\w.-]*$/); // an explicit version tag, never latest
    }
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(Object.values(services).some((s) => s.image?.includes('auto-setup'))).toBe(false);
    expect(services['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(JSON.stringify(services['temporal-schema'])).toContain('temporal-sql-tool');
  });

  it('starts in a health-gated order', () => {
    const dep = (s: string, on: string) => services[s]!.depends_on?.[on]?.condition;
    expect(dep('temporal-schema', 'temporal-db')).toBe('service_healthy');
    expect(dep('temporal', 'temporal-schema')).toBe('service_completed_successfully');
    expect(dep('temporal-namespace', 'temporal')).toBe('service_healthy');
    for (const app of ['gateway', 'generation-worker', 'media-worker']) {
      expect(dep(app, 'temporal'), app).toBe('service_healthy');
      expect(dep(app, 'temporal-namespace'), app).toBe('service_completed_successfully');
    }
    expect(dep('gateway', 'app-db')).toBe('service_healthy');
    for (const [name, s] of Object.entries(services)) {
      for (const [on, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[on], `${name} depends on unknown ${on}`).toBeDefined();
        expect(condition, `${name} → ${on}`).toBe(ONE_SHOT.has(on) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
  });

  it('builds each app from an existing Dockerfile with the repository as context', () => {
    for (const app of APPS) {
      const s = services[app.service]!;
      expect(s.build?.context).toBe('.');
      expect(s.build?.dockerfile).toBe(app.dockerfile);
      expect(exists(app.dockerfile), app.dockerfile).toBe(true);
    }
  });

  it('scales the workers and limits the media worker on its own', () => {
    expect(String(services['generation-worker']!.deploy?.replicas)).toBe('${WORKER_REPLICAS:-2}');
    expect(String(services['media-worker']!.deploy?.replicas)).toBe('${MEDIA_WORKER_REPLICAS:-1}');
    expect(services['media-worker']!.deploy?.resources?.limits).toEqual({
      cpus: '${MEDIA_WORKER_CPUS:-2}',
      memory: '${MEDIA_WORKER_MEMORY:-2G}',
    });
  });

  it('lets running activities finish: stop_grace_period is longer than the worker shutdown grace', () => {
    for (const name of ['generation-worker', 'media-worker']) {
      const s = services[name]!;
      const grace = Number(s.environment?.WORKER_SHUTDOWN_GRACE_SECONDS);
      expect(grace, name).toBeGreaterThan(0);
      expect(seconds(s.stop_grace_period!), name).toBeGreaterThanOrEqual(grace + 10);
    }
  });

  it('health-checks the workers on the port their health endpoint listens on', () => {
    for (const name of ['generation-worker', 'media-worker']) {
      const s = services[name]!;
      const port = s.environment?.HEALTH_PORT;
      expect(port, name).toMatch(/^\d+$/);
      expect(JSON.stringify(s.healthcheck?.test)).toContain(`127.0.0.1:${port}/health`);
    }
    expect(JSON.stringify(services.gateway!.healthcheck?.test)).toContain('127.0.0.1:3000/health');
  });

  it('requires the secrets instead of defaulting them, and never ships a placeholder', () => {
    const text = read('docker-compose.prod.yml');
    for (const secret of ['WORKFLOW_SECRET_KEY', 'POSTGRES_PASSWORD', 'APP_DB_PASSWORD']) {
      expect(text, secret).toMatch(new RegExp(`\\$\\{${secret}:\\?`));
      expect(text, secret).not.toMatch(new RegExp(`\\$\\{${secret}:-[^}]`));
    }
    expect(text).not.toMatch(/changethis/);
    expect(services['generation-worker']!.environment?.WORKFLOW_SECRET_ENABLED).toBe('${WORKFLOW_SECRET_ENABLED:-true}');
  });

  it('hands provider keys to the generation worker only: the Internet-facing gateway holds none', () => {
    const providerVariables = Object.keys(providersEnvShape);
    expect(providerVariables).toContain('REPLICATE_API_KEY');
    for (const v of providerVariables) expect(services['generation-worker']!.environment, v).toHaveProperty(v);
    for (const [name, s] of Object.entries(services)) {
      if (name === 'generation-worker') continue;
      const env = Object.keys(s.environment ?? {});
      expect(
        env.filter((k) => providerVariables.includes(k) || /_API_(KEY|TOKEN)$/.test(k)),
        name,
      ).toEqual([]);
    }
    // A production worker refuses to start without keys unless the operator lists what may run offline.
    expect(services['generation-worker']!.environment?.NODE_ENV).toBe('production');
    expect(services['generation-worker']!.environment?.ALLOW_OFFLINE_PROVIDERS).toBe('${ALLOW_OFFLINE_PROVIDERS:-}');
  });

  it('runs two gateway replicas sharing Redis (limits) and PostgreSQL, only the first publishing a port', () => {
    const { ports: _ports, ...second } = services['gateway-2']!;
    const { ports, ...first } = services.gateway!;
    expect(second).toEqual(first);
    expect(services['gateway-2']!.ports ?? []).toEqual([]);
    expect(ports).toHaveLength(1);
    expect(first.environment?.REDIS_URL).toBe('redis://redis:6379');
    expect(first.depends_on?.redis?.condition).toBe('service_healthy');
    expect(services.redis!.ports).toBeUndefined();
  });

  it('gives every app the same name for each task queue', () => {
    for (const app of ['gateway', 'generation-worker', 'media-worker']) {
      const env = services[app]!.environment ?? {};
      expect(env.TEMPORAL_TASK_QUEUE, app).toBe('${TEMPORAL_TASK_QUEUE:-generation-queue}');
      expect(env.MEDIA_TASK_QUEUE, app).toBe('${MEDIA_TASK_QUEUE:-media-queue}');
    }
  });

  it('keeps data in named volumes', () => {
    const named = Object.keys(compose.volumes);
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        expect(named, `${name} mounts ${source}, which is not a named volume`).toContain(source);
      }
    }
    expect(services['temporal-db']!.volumes).toEqual(['temporal-db-data:/var/lib/postgresql/data']);
    expect(services['app-db']!.volumes).toEqual(['app-db-data:/var/lib/postgresql/data']);
  });
});
