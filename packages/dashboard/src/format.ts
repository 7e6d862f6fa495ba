/** Short human durations: 850 ms, 12 s, 4 min 05 s, 3 h 12 min, 2 d 4 h. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export const since = (iso: string | null | undefined, now: number) => (iso ? duration(now - Date.parse(iso)) : "–");

export function mb(n: number | null | undefined): string {
  if (n === null || n === undefined) return "–";
  return n >= 1024 ? `${(n / 1024).toFixed(1)} GiB` : `${Math.round(n)} MiB`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export const percent = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${Math.round(n)}%`);

export const shortId = (id: string) => (id.length > 12 ? `${id.slice(0, 4)}…${id.slice(-6)}` : id);

export const json = (v: unknown) => JSON.stringify(v, null, 2) ?? "null";
