/** A server that cannot start for a reason the user can fix (its data directory): one line, exit 1. */
export class StartupError extends Error {
  override name = "StartupError";
}
