import { access } from "node:fs/promises";
import type { InferenceSession } from "onnxruntime-node";
import { ExecutorError } from "../../runner/executor.ts";
import { importOrFail } from "../shared/lazy-import.ts";
import type { EmbeddingModel } from "./embedding-model.ts";

type Ort = typeof import("onnxruntime-node");

export const loadOrt = (): Promise<Ort> => importOrFail(() => import("onnxruntime-node"), "onnxruntime-node");

/** One session per model file for the executor's life: loading a ViT takes seconds, running it far less. */
const sessions = new Map<string, Promise<InferenceSession>>();

export function openSession(path: string): Promise<InferenceSession> {
  let session = sessions.get(path);
  if (!session) {
    session = (async () => {
      const ort = await loadOrt();
      try {
        return await ort.InferenceSession.create(path, { graphOptimizationLevel: "all", interOpNumThreads: 1 });
      } catch (err) {
        throw new ExecutorError("model", `cannot load ONNX model ${path}: ${(err as Error).message}`, "model_load");
      }
    })();
    sessions.set(path, session);
    session.catch(() => sessions.delete(path));
  }
  return session;
}

/** Releases every loaded session (agent shutdown). */
export async function closeSessions(): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  for (const s of open) await s.then((x) => x.release()).catch(() => {});
}

/** Runs the model on one preprocessed image and returns its embedding, checked against the expected dim. */
export async function runEmbedding(
  session: InferenceSession,
  model: EmbeddingModel,
  input: { tensor: Float32Array; dims: number[] },
): Promise<Float32Array> {
  const ort = await loadOrt();
  const inputName = session.inputNames[0];
  if (!inputName) throw new ExecutorError("model", `${model.file} has no inputs`, "model_shape");
  const results = await session.run({ [inputName]: new ort.Tensor("float32", input.tensor, input.dims) });
  const name = model.preferredOutputs.find((n) => n in results) ?? session.outputNames[0]!;
  const out = results[name]!;
  const dims = out.dims;
  const dim = dims.at(-1) ?? 0;
  // [1, D] is the pooled embedding; [1, tokens, D] (last_hidden_state) gives the CLS token, row 0.
  if (out.type !== "float32" || dim !== model.dim || (dims.length !== 2 && dims.length !== 3)) {
    throw new ExecutorError(
      "model",
      `${model.file} output "${name}" is ${out.type} [${dims.join(", ")}], expected float32 [1, ${model.dim}]`,
      "model_shape",
    );
  }
  return Float32Array.from((out.data as Float32Array).subarray(0, dim));
}

/** For detect(): null when the model file is there and onnxruntime loads, else why not. */
export async function missingModel(path: string): Promise<string | null> {
  try {
    await access(path);
  } catch {
    return `model file ${path} is absent`;
  }
  try {
    import.meta.resolve("onnxruntime-node"); // resolve only: loading it costs the detect pass ~100 ms
    return null;
  } catch (err) {
    return `onnxruntime-node is not installed: ${(err as Error).message}`;
  }
}
