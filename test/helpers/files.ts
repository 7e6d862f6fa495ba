import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

/** Every file under a data dir's blobs/ (committed and staged), for "nothing was written" checks. */
export function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, "blobs");
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1));
}

/** `POST /v1/files?name=` with a raw body; returns status and parsed body. */
export async function upload(
  url: string,
  key: string,
  name: string,
  body: Uint8Array | string,
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${url}/v1/files?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
    body,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
