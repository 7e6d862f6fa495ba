import { ExecutorError } from "../../runner/executor.ts";

/**
 * Heavy libraries load on first use so an agent without them still starts; a missing one fails the
 * job as fatal (retrying on this agent cannot help) and detect() reports it instead of advertising.
 */
export async function importOrFail<T>(load: () => Promise<T>, library: string): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new ExecutorError("fatal", `${library} is not installed on this agent: ${(err as Error).message}`);
  }
}

/** For detect(): null when the library resolves (it is not loaded: detection runs at every start), else why not. */
export function missingLibrary(specifier: string, library: string): string | null {
  try {
    import.meta.resolve(specifier);
    return null;
  } catch (err) {
    return `${library} cannot be loaded: ${(err as Error).message.split("\n")[0]}`;
  }
}
