import { HttpJson, mapLimit } from "./http-json.ts";

export interface SubmitResult {
  submitted: number;
  errors: number;
  firstError: string | null;
  /** Wall-clock ms from the first request to the last 2xx. */
  submitMs: number;
}

/**
 * Submits `n` jobs with `POST /v1/jobs/batch` (up to `batchSize` per request, `inFlight` requests at
 * once). Response bodies are not parsed: the bench needs only the status, and parsing 1,000 job
 * views per response would take CPU from the server it measures.
 */
export async function submitBatches(
  url: string,
  clientKey: string,
  opts: { n: number; capability: string; batchSize: number; inFlight: number; payload: () => unknown },
): Promise<SubmitResult> {
  const http = new HttpJson(url, { bearer: clientKey, maxSockets: opts.inFlight });
  const sizes: number[] = [];
  for (let left = opts.n; left > 0; left -= opts.batchSize) sizes.push(Math.min(left, opts.batchSize));
  let submitted = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = performance.now();
  await mapLimit(sizes, opts.inFlight, async (size) => {
    const jobs = Array.from({ length: size }, () => ({ capability: opts.capability, payload: opts.payload() }));
    const r = await http.post("/v1/jobs/batch", { jobs }, false);
    if (r.status === 201) submitted += size;
    else {
      errors += size;
      firstError ??= `HTTP ${r.status}`;
    }
  });
  const submitMs = performance.now() - t0;
  http.close();
  return { submitted, errors, firstError, submitMs };
}

/** Submits `n` jobs one per `POST /v1/jobs` request, `concurrency` requests at once. */
export async function submitSingles(
  url: string,
  clientKey: string,
  opts: { n: number; capability: string; concurrency: number; payload: () => unknown },
): Promise<SubmitResult> {
  const http = new HttpJson(url, { bearer: clientKey, maxSockets: opts.concurrency });
  let submitted = 0;
  let errors = 0;
  let firstError: string | null = null;
  const t0 = performance.now();
  await mapLimit(
    Array.from({ length: opts.n }, (_, i) => i),
    opts.concurrency,
    async () => {
      const r = await http.post("/v1/jobs", { capability: opts.capability, payload: opts.payload() }, false);
      if (r.status === 201) submitted++;
      else {
        errors++;
        firstError ??= `HTTP ${r.status}`;
      }
    },
  );
  const submitMs = performance.now() - t0;
  http.close();
  return { submitted, errors, firstError, submitMs };
}
