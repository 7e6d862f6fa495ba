import { writeFile } from "node:fs/promises";

/**
 * Writes tiny random-weight llama GGUF files for tests and benchmarks: no model can be downloaded
 * here, and a few hundred KB of noise loads, tokenizes, generates and embeds in llama.cpp like a
 * real model. Format: llama.cpp `docs/gguf.md` (v3, little-endian, F32 tensors, 32-byte alignment).
 */
export interface TinyModelOptions {
  /** PRNG seed for the weights: two seeds give two different models. @defaultValue 1 */
  seed?: number;
  /** @defaultValue 64 */
  embedding?: number;
  /** @defaultValue 2 */
  blocks?: number;
  /** @defaultValue 4 */
  heads?: number;
  /** @defaultValue 128 */
  feedForward?: number;
  /** Training context length (`llama.context_length`). @defaultValue 256 */
  contextLength?: number;
  /** A Jinja chat template (`tokenizer.chat_template`); none by default. */
  chatTemplate?: string;
  /** `general.name`. @defaultValue "gantry-tiny" */
  name?: string;
}

const defaults = {
  seed: 1,
  embedding: 64,
  blocks: 2,
  heads: 4,
  feedForward: 128,
  contextLength: 256,
  name: "gantry-tiny",
} satisfies Omit<TinyModelOptions, "chatTemplate">;

const WORDS = ["▁the", "▁a", "▁is", "▁of", "▁and", "▁to", "▁in", "▁it"];

/** SPM vocabulary: unk, bos, eos, the 256 byte-fallback tokens, then `▁`, a–z and a few words (294). */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types = [2, 3, 3]; // unknown, control, control
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6); // byte
  }
  const pieces = ["▁", ..."abcdefghijklmnopqrstuvwxyz", ...WORDS];
  tokens.push(...pieces);
  types.push(...pieces.map(() => 1)); // normal
  // SPM merges prefer higher scores: longer pieces score higher.
  const scores = tokens.map((t, i) => (types[i] === 1 ? -100 + t.length * 10 - i / 1000 : 0));
  return { tokens, scores, types };
}

/** mulberry32 + Box-Muller: small, seeded, good enough for noise. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

type Value =
  | { t: "u32"; v: number }
  | { t: "f32"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "strs"; v: string[] }
  | { t: "f32s"; v: number[] }
  | { t: "i32s"; v: number[] };

/** Grows as written; GGUF is all little-endian. */
class Writer {
  buf = Buffer.alloc(1 << 16);
  at = 0;
  #room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  u32(v: number): void {
    this.#room(4);
    this.at = this.buf.writeUInt32LE(v, this.at);
  }
  i32(v: number): void {
    this.#room(4);
    this.at = this.buf.writeInt32LE(v, this.at);
  }
  u64(v: number): void {
    this.#room(8);
    this.at = this.buf.writeBigUInt64LE(BigInt(v), this.at);
  }
  f32(v: number): void {
    this.#room(4);
    this.at = this.buf.writeFloatLE(v, this.at);
  }
  str(v: string): void {
    const bytes = Buffer.from(v, "utf8");
    this.u64(bytes.length);
    this.#room(bytes.length);
    this.at += bytes.copy(this.buf, this.at);
  }
  pad(align: number): void {
    const n = (align - (this.at % align)) % align;
    this.#room(n);
    this.at += n; // alloc'd zeroes
  }
  value(x: Value): void {
    const TYPE = { u32: 4, f32: 6, bool: 7, str: 8 } as const;
    const ARRAY = 9;
    switch (x.t) {
      case "u32":
      case "f32":
      case "str":
        this.u32(TYPE[x.t]);
        if (x.t === "str") this.str(x.v);
        else if (x.t === "u32") this.u32(x.v);
        else this.f32(x.v);
        return;
      case "bool":
        this.u32(TYPE.bool);
        this.#room(1);
        this.at = this.buf.writeUInt8(x.v ? 1 : 0, this.at);
        return;
      case "strs":
        this.u32(ARRAY);
        this.u32(TYPE.str);
        this.u64(x.v.length);
        for (const s of x.v) this.str(s);
        return;
      case "f32s":
        this.u32(ARRAY);
        this.u32(TYPE.f32);
        this.u64(x.v.length);
        for (const f of x.v) this.f32(f);
        return;
      case "i32s":
        this.u32(ARRAY);
        this.u32(5);
        this.u64(x.v.length);
        for (const i of x.v) this.i32(i);
        return;
    }
  }
}

/** The GGUF bytes of a tiny random llama model. */
export function tinyLlamaGguf(options: TinyModelOptions = {}): Buffer {
  const o = { ...defaults, ...options };
  const vocab = vocabulary();
  const nVocab = vocab.tokens.length;
  const e = o.embedding;
  const meta: Array<[string, Value]> = [
    ["general.architecture", { t: "str", v: "llama" }],
    ["general.name", { t: "str", v: o.name }],
    ["general.alignment", { t: "u32", v: 32 }],
    ["general.file_type", { t: "u32", v: 0 }], // ALL_F32
    ["llama.context_length", { t: "u32", v: o.contextLength }],
    ["llama.embedding_length", { t: "u32", v: e }],
    ["llama.block_count", { t: "u32", v: o.blocks }],
    ["llama.feed_forward_length", { t: "u32", v: o.feedForward }],
    ["llama.attention.head_count", { t: "u32", v: o.heads }],
    ["llama.attention.head_count_kv", { t: "u32", v: o.heads }],
    ["llama.attention.layer_norm_rms_epsilon", { t: "f32", v: 1e-5 }],
    ["llama.rope.dimension_count", { t: "u32", v: e / o.heads }],
    ["llama.vocab_size", { t: "u32", v: nVocab }],
    ["tokenizer.ggml.model", { t: "str", v: "llama" }],
    ["tokenizer.ggml.tokens", { t: "strs", v: vocab.tokens }],
    ["tokenizer.ggml.scores", { t: "f32s", v: vocab.scores }],
    ["tokenizer.ggml.token_type", { t: "i32s", v: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", { t: "u32", v: 0 }],
    ["tokenizer.ggml.bos_token_id", { t: "u32", v: 1 }],
    ["tokenizer.ggml.eos_token_id", { t: "u32", v: 2 }],
    ["tokenizer.ggml.add_bos_token", { t: "bool", v: true }],
    ["tokenizer.ggml.add_eos_token", { t: "bool", v: false }],
  ];
  if (o.chatTemplate) meta.push(["tokenizer.chat_template", { t: "str", v: o.chatTemplate }]);

  // dims are ne[0] first (the innermost, contiguous axis), as ggml stores them.
  const tensors: Array<{ name: string; dims: number[]; ones?: boolean; quietSpecial?: boolean }> = [
    { name: "token_embd.weight", dims: [e, nVocab] },
    { name: "output_norm.weight", dims: [e], ones: true },
    // Control and byte tokens get logits of 0, so text is letters and words (tests pick stop strings
    // from it) and greedy decoding runs to max_tokens rather than stopping at a random eos.
    { name: "output.weight", dims: [e, nVocab], quietSpecial: true },
  ];
  for (let b = 0; b < o.blocks; b++) {
    const p = `blk.${b}.`;
    tensors.push(
      { name: `${p}attn_norm.weight`, dims: [e], ones: true },
      { name: `${p}attn_q.weight`, dims: [e, e] },
      { name: `${p}attn_k.weight`, dims: [e, e] },
      { name: `${p}attn_v.weight`, dims: [e, e] },
      { name: `${p}attn_output.weight`, dims: [e, e] },
      { name: `${p}ffn_norm.weight`, dims: [e], ones: true },
      { name: `${p}ffn_gate.weight`, dims: [e, o.feedForward] },
      { name: `${p}ffn_up.weight`, dims: [e, o.feedForward] },
      { name: `${p}ffn_down.weight`, dims: [o.feedForward, e] },
    );
  }

  const w = new Writer();
  w.buf.write("GGUF", 0, "ascii");
  w.at = 4;
  w.u32(3);
  w.u64(tensors.length);
  w.u64(meta.length);
  for (const [key, value] of meta) {
    w.str(key);
    w.value(value);
  }
  let offset = 0;
  const sizes = tensors.map((t) => t.dims.reduce((a, b) => a * b, 1) * 4);
  tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(0); // GGML_TYPE_F32
    w.u64(offset);
    offset += Math.ceil(sizes[i]! / 32) * 32;
  });
  w.pad(32);
  const noise = gaussian(o.seed);
  const data = Buffer.alloc(offset);
  let at = 0;
  tensors.forEach((t, i) => {
    for (let k = 0; k < sizes[i]! / 4; k++) {
      const token = Math.floor(k / e);
      const quiet = t.quietSpecial && token < 259;
      data.writeFloatLE(t.ones ? 1 : quiet ? 0 : noise() * 0.5, at + k * 4);
    }
    at += Math.ceil(sizes[i]! / 32) * 32;
  });
  return Buffer.concat([w.buf.subarray(0, w.at), data]);
}

/** Writes a tiny model to `path` (see tinyLlamaGguf). */
export async function writeTinyLlamaGguf(path: string, options: TinyModelOptions = {}): Promise<void> {
  await writeFile(path, tinyLlamaGguf(options));
}
