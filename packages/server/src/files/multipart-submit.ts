import multipart from "@fastify/multipart";
import { GantryError, MULTIPART_JOB_FIELD, SubmitJobRequest, unsafeFileNameReason } from "@gantry/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { GantryContext } from "../context.ts";
import { discardAll, type NamedStage } from "./file-service.ts";

/** Inputs one job may carry (as SubmitJobRequest allows). */
const MAX_FILES = 100;

/**
 * One-shot submission: `POST /v1/jobs` as multipart/form-data with a `job` field (the SubmitJobRequest
 * as JSON) first, then its files. Registers @fastify/multipart in the calling plugin's scope and
 * returns a preValidation hook that streams each file into the blob store, records them for the
 * caller (quota, all or none) and puts the job, with the files appended to its inputs, in the body.
 * Any failure discards every staged file: a refused submission stores nothing.
 */
export async function multipartSubmit(
  app: FastifyInstance,
  ctx: GantryContext,
  auth: (r: FastifyRequest) => Promise<void>,
) {
  await app.register(multipart, {
    // Busboy would cut a name to its last path segment ("../x" → "x"); we refuse it instead.
    preservePath: true,
    limits: {
      // Our own meter enforces maxFileBytes with our error; busboy's limit is a backstop above it.
      fileSize: ctx.files.limits.maxFileBytes + 1,
      files: MAX_FILES,
      fields: 1,
      fieldSize: 1024 * 1024,
      parts: MAX_FILES + 1,
    },
  });
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.isMultipart()) return;
    // preValidation runs before the route's preHandler: authenticate before reading any file.
    await auth(request);
    const owner = request.principal!.owner;
    const stages: NamedStage[] = [];
    try {
      let job: SubmitJobRequest | undefined;
      for await (const part of request.parts()) {
        if (part.type === "field") {
          if (part.fieldname !== MULTIPART_JOB_FIELD || job) throw invalid(`unexpected field "${part.fieldname}"`);
          job = parseJob(part.value);
          continue;
        }
        if (!job) {
          part.file.resume();
          throw invalid("the job field must come before the files");
        }
        const name = part.filename || part.fieldname;
        const reason = unsafeFileNameReason(name);
        if (reason) throw new GantryError("file_name_unsafe", `File name ${JSON.stringify(name)} ${reason}.`);
        if (stages.some((s) => s.name === name)) throw invalid(`two files are named "${name}"`);
        stages.push({ name, staged: await ctx.files.stage(part.file) });
      }
      if (!job) throw invalid(`no "${MULTIPART_JOB_FIELD}" field`);
      const files = await ctx.files.own(owner, stages);
      request.body = { ...job, inputs: [...(job.inputs ?? []), ...files] };
    } catch (err) {
      await discardAll(stages);
      throw err;
    }
  };
}

function parseJob(value: unknown): SubmitJobRequest {
  let json: unknown;
  try {
    json = JSON.parse(String(value));
  } catch (err) {
    throw new GantryError(
      "invalid_json",
      `The ${MULTIPART_JOB_FIELD} field is not valid JSON: ${(err as Error).message}`,
    );
  }
  const parsed = SubmitJobRequest.safeParse(json);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ in: "body", path: `/${i.path.join("/")}`, message: i.message }));
    throw new GantryError(
      "validation_failed",
      `Invalid ${MULTIPART_JOB_FIELD} field: ${details[0]?.message}.`,
      details,
    );
  }
  return parsed.data;
}

function invalid(why: string): GantryError {
  return new GantryError(
    "file_multipart_invalid",
    `Malformed multipart submission: ${why}; send a "job" field (JSON) first, then the files.`,
  );
}
