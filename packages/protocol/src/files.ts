import { z } from "zod";

/** Longest file name, in UTF-8 bytes: the whole relative path, and each segment. */
export const FILE_NAME_MAX_BYTES = 500;
export const FILE_SEGMENT_MAX_BYTES = 255;

// TextEncoder, not Buffer: the protocol also runs in browsers (the SDK, the dashboard).
const utf8 = new TextEncoder();
const byteLength = (s: string) => utf8.encode(s).length;

/**
 * Why a file name is unsafe, or null when it is safe. A name is a relative, "/"-separated path
 * (`out/clip.npy`): agents write it under the job's work directory and the CLI under `-o DIR`, so it
 * must never leave that directory: no empty, "." or ".." segments, no leading "/" or drive letter,
 * no backslash, NUL or other control character.
 */
export function unsafeFileNameReason(name: string): string | null {
  if (name.length === 0) return "is empty";
  if (byteLength(name) > FILE_NAME_MAX_BYTES) return `is longer than ${FILE_NAME_MAX_BYTES} bytes`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
  if (/[\u0000-\u001f\u007f]/.test(name)) return "contains a control character";
  if (name.includes("\\")) return "contains a backslash";
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "is not a relative path";
  for (const seg of name.split("/")) {
    if (seg === "" || seg === "." || seg === "..") return 'has an empty, "." or ".." segment';
    if (byteLength(seg) > FILE_SEGMENT_MAX_BYTES) return `has a segment longer than ${FILE_SEGMENT_MAX_BYTES} bytes`;
  }
  return null;
}

/** A safe relative file name; an unsafe one fails with the registry code file_name_unsafe. */
export const FileName = z.string().superRefine((name, ctx) => {
  const reason = unsafeFileNameReason(name);
  if (reason) ctx.addIssue({ code: "custom", message: `file name ${reason}`, params: { code: "file_name_unsafe" } });
});

export const FileHash = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

/** A file as jobs reference it: inputs given at submission, outputs uploaded by the agent. */
export const FileRef = z.strictObject({
  name: FileName,
  hash: FileHash,
  size: z.number().int().nonnegative().optional(),
});
export type FileRef = z.infer<typeof FileRef>;

/** `POST /v1/files?name=` */
export const UploadFileQuery = z.strictObject({ name: FileName });
export type UploadFileQuery = z.infer<typeof UploadFileQuery>;
/** What the server stored: `POST /v1/files` (201) and each file of a one-shot multipart submission. */
export const UploadFileResponse = z.object({ hash: FileHash, size: z.number().int().nonnegative(), name: z.string() });
export type UploadFileResponse = z.infer<typeof UploadFileResponse>;

export const FileHashParams = z.strictObject({ hash: FileHash });
export const JobFileParams = z.strictObject({
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID"),
  name: FileName,
});

/** `GET /v1/jobs/:id/files`: the job's output files. */
export const ListJobFilesResponse = z.object({
  files: z.array(z.object({ name: z.string(), hash: FileHash, size: z.number().int().nonnegative() })),
});
export type ListJobFilesResponse = z.infer<typeof ListJobFilesResponse>;

/** Agent file routes: the attempt the agent holds the job at (fencing, like every agent message). */
export const AgentFileQuery = z.strictObject({ epoch: z.coerce.number().int().positive() });
export type AgentFileQuery = z.infer<typeof AgentFileQuery>;

/** The multipart field of a one-shot `POST /v1/jobs` that carries the SubmitJobRequest as JSON. */
export const MULTIPART_JOB_FIELD = "job";
