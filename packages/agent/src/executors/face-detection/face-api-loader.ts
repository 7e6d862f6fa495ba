import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { importOrFail } from "../shared/lazy-import.ts";

export type FaceApi = typeof import("@vladmandic/face-api/dist/face-api.node-wasm.js");

const require = createRequire(import.meta.url);
let loaded: Promise<FaceApi> | undefined;

/** face-api's models ship inside its npm package (SSD MobileNet v1, 68-point landmarks, 128-d recognition). */
export function faceModelDir(): string {
  return join(dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
}

/**
 * face-api on tfjs's WASM backend (tfjs-node needs a download at install; WASM ships in npm). The
 * wasm files are read from node_modules (`setWasmPaths(dir, false)`: Node's fetch cannot read paths).
 * Loaded once per executor process: the three nets take ~0.5 s.
 */
export function loadFaceApi(): Promise<FaceApi> {
  loaded ??= importOrFail(async () => {
    const faceapi = require("@vladmandic/face-api/dist/face-api.node-wasm.js") as FaceApi;
    const tf = require("@tensorflow/tfjs") as typeof import("@tensorflow/tfjs");
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(`${dirname(require.resolve("@tensorflow/tfjs-backend-wasm"))}/`, false);
    await tf.setBackend("wasm");
    await tf.ready();
    const dir = faceModelDir();
    await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
    await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
    await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
    return faceapi;
  }, "@vladmandic/face-api (tfjs WASM)");
  loaded.catch(() => {
    loaded = undefined;
  });
  return loaded;
}

/** For detect(): null when the libraries resolve and the model files are there, else why not. */
export async function missingFaceApi(): Promise<string | null> {
  try {
    require.resolve("@vladmandic/face-api/dist/face-api.node-wasm.js");
    require.resolve("@tensorflow/tfjs");
    require.resolve("@tensorflow/tfjs-backend-wasm");
  } catch (err) {
    return `face-api or tfjs is not installed: ${(err as Error).message.split("\n")[0]}`;
  }
  try {
    await access(join(faceModelDir(), "ssd_mobilenetv1_model.bin"));
    return null;
  } catch {
    return `face-api models are absent from ${faceModelDir()}`;
  }
}
