import { CAPABILITY_NAMES, planFromIdentity, type ProviderCapability, type ReadyBody } from '@gptmarket/contracts';
import type { TemporalGateway } from './temporal.js';

/** What /ready says about the workers (`ReadyBody` in packages/contracts), when Temporal can be asked. */
export interface WorkersReport {
  workers: NonNullable<ReadyBody['workers']>;
  providers: NonNullable<ReadyBody['providers']>;
}

/**
 * Learns which providers the generation workers serve from the identities they poll Temporal with (see
 * `workerIdentity`): the gateway holds no provider key. Read at most once per `ttlMs`: /ready is public and
 * not rate limited.
 */
export class WorkerDirectory {
  private cached: { at: number; report: Promise<WorkersReport> } | null = null;

  constructor(
    private readonly temporal: TemporalGateway,
    private readonly queues: { generation: string; media: string },
    private readonly ttlMs = 5_000,
  ) {}

  report(): Promise<WorkersReport> {
    if (!this.cached || Date.now() - this.cached.at > this.ttlMs) {
      const report = this.read();
      this.cached = { at: Date.now(), report };
      // A failed read is not cached: the next call asks again.
      report.catch(() => {
        if (this.cached?.report === report) this.cached = null;
      });
    }
    return this.cached.report;
  }

  private async read(): Promise<WorkersReport> {
    // Workflow pollers: a generation worker keeps polling for workflow tasks even while its activity slots are full.
    const [generation, media] = await Promise.all([
      this.temporal.pollers(this.queues.generation, 'workflow'),
      this.temporal.pollers(this.queues.media, 'activity'),
    ]);
    const providers = Object.fromEntries(CAPABILITY_NAMES.map((c) => [c, new Set<string>()])) as Record<ProviderCapability, Set<string>>;
    for (const identity of generation) {
      const plan = planFromIdentity(identity);
      for (const c of CAPABILITY_NAMES) providers[c].add(plan?.[c] ?? 'unknown');
    }
    return {
      workers: { generation: generation.length, media: media.length },
      providers: Object.fromEntries(CAPABILITY_NAMES.map((c) => [c, [...providers[c]].sort()])) as Record<ProviderCapability, string[]>,
    };
  }
}
