import { type BackoffPolicy, backoffDelay, isTerminal } from "@gantry/protocol";
import type { GantryClient } from "../gantry-client.ts";
import type { JobSignal, UpdateSource } from "./update-source.ts";

/**
 * Job updates by polling `GET /v1/jobs/:id`: each job is fetched after a delay that grows
 * exponentially while nothing changes and starts over when something does; it stops at a terminal status.
 */
export class PollSource implements UpdateSource {
  readonly kind = "poll";
  readonly #client: GantryClient;
  readonly #backoff: BackoffPolicy;
  readonly #stops = new Set<() => void>();

  constructor(client: GantryClient, backoff: BackoffPolicy) {
    this.#client = client;
    this.#backoff = backoff;
  }

  async watch(jobId: string, onSignal: (s: JobSignal) => void): Promise<() => void> {
    await this.#client.get(jobId);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = "";
    let quiet = 0;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      this.#stops.delete(stop);
    };
    const tick = async () => {
      if (stopped) return;
      try {
        const job = await this.#client.get(jobId);
        const seen = JSON.stringify([job.status, job.progress]);
        if (seen !== last) {
          last = seen;
          quiet = 0;
          if (job.progress && !isTerminal(job.status)) onSignal({ kind: "progress", progress: job.progress });
          onSignal({ kind: "status", status: job.status });
          if (isTerminal(job.status)) return stop();
        } else quiet++;
      } catch {
        quiet++;
      }
      if (!stopped)
        timer = setTimeout(
          tick,
          backoffDelay(quiet, this.#backoff, () => 1),
        );
    };
    timer = setTimeout(tick, 0);
    this.#stops.add(stop);
    return stop;
  }

  close(): void {
    for (const stop of [...this.#stops]) stop();
  }
}
