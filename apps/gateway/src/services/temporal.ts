import { Client, Connection } from '@temporalio/client';

/** One lazily connected Temporal client per gateway process. */
export class TemporalGateway {
  private client: Promise<Client> | null = null;
  private connection: Connection | null = null;

  constructor(private readonly opts: { address: string; namespace: string }) {}

  get(): Promise<Client> {
    this.client ??= Connection.connect({ address: this.opts.address, connectTimeout: '5s' }).then(
      (connection) => {
        this.connection = connection;
        return new Client({ connection, namespace: this.opts.namespace });
      },
      (err) => {
        this.client = null; // try again on the next request
        throw err;
      },
    );
    return this.client;
  }

  /** Readiness: the namespace answers within the deadline. */
  async check(timeoutMs = 3_000): Promise<void> {
    const client = await this.get();
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.workflowService.describeNamespace({ namespace: this.opts.namespace }),
    );
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}

/** True when an error means Temporal could not be reached (as opposed to a refusal of the request). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: number; name?: string; message?: string };
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), or a failed connect.
  return e?.code === 14 || e?.code === 4 || /connect|UNAVAILABLE|ECONNREFUSED|deadline/i.test(`${e?.name} ${e?.message}`);
}
