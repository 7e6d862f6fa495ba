import { BUILTIN_LOADERS } from "../executors/builtin-executors.ts";

/**
 * Imports an executor module by its URL. The built-in ones go through their import() expressions, so
 * that a bundle (which has no file at those URLs) holds them; plugins are imported from their URL.
 */
export function importExecutor(module: string): Promise<unknown> {
  const load = BUILTIN_LOADERS.get(module);
  return load ? load() : import(module);
}
