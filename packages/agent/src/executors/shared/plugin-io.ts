/** What a plugin's core function gets besides its input and parameters. */
export interface PluginIO {
  /** Files written here become the job's output files. It exists and is empty. */
  outputDir: string;
  /** Aborted on cancel or runtime limit: stop at once and leave no child process behind. */
  signal: AbortSignal;
  progress(percent: number, stage: string): void;
}

/** A core function's result: the job's output JSON and the names of the files it wrote into outputDir. */
export interface PluginResult<O> {
  output: O;
  files: string[];
}

/** For tests and callers that need no progress. */
export function quietIO(outputDir: string, signal: AbortSignal = new AbortController().signal): PluginIO {
  return { outputDir, signal, progress: () => {} };
}
