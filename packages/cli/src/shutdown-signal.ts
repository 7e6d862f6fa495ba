/**
 * Resolves on the first SIGINT or SIGTERM so a long-running command can shut down cleanly; a second
 * signal exits at once (exit code 130) for when the clean shutdown hangs.
 */
export function shutdownSignal(onSecond: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (seen) {
        onSecond();
        return;
      }
      seen = true;
      resolve(signal);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}
