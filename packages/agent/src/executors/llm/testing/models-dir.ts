import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TinyModelOptions, writeTinyLlamaGguf } from "./gguf-writer.ts";

/** A ChatML template, so chat runs go through a real template (the wrapper node-llama-cpp picks). */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A temporary models directory holding generated models: `{ "tiny-a": {seed: 1} }` → tiny-a.gguf. */
export async function modelsDir(
  models: Record<string, TinyModelOptions>,
): Promise<{ dir: string; path(name: string): string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "gantry-llm-"));
  for (const [name, o] of Object.entries(models)) await writeTinyLlamaGguf(join(dir, `${name}.gguf`), o);
  return { dir, path: (name) => join(dir, `${name}.gguf`), remove: () => rm(dir, { recursive: true, force: true }) };
}
