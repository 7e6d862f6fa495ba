import { writeFile } from "node:fs/promises";

/**
 * Writes a little-endian float32 `.npy` (format 1.0), readable by `numpy.load`. The header is padded
 * so the data starts on a 64-byte boundary, as numpy writes it.
 */
export async function writeNpy(path: string, data: Float32Array, shape: number[]): Promise<void> {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += `${" ".repeat((64 - (unpadded % 64)) % 64)}\n`;
  const prefix = Buffer.alloc(10);
  prefix.write("\x93NUMPY", 0, "latin1");
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await writeFile(path, Buffer.concat([prefix, Buffer.from(header, "latin1"), body]));
}

/** Reads back what writeNpy wrote (tests, and anyone checking a downloaded output). */
export function readNpy(bytes: Buffer): { shape: number[]; data: Float32Array } {
  if (bytes.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error("not an .npy file");
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString("latin1", 10, 10 + headerLength);
  if (!header.includes("'<f4'")) throw new Error(`unsupported dtype in ${header}`);
  const shape = (/'shape': \(([^)]*)\)/.exec(header)?.[1] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const start = 10 + headerLength;
  const copy = new Uint8Array(bytes.subarray(start)).buffer;
  return { shape, data: new Float32Array(copy) };
}
