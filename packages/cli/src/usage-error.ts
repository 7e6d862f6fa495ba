/** Bad input from the user (flags, JSON, ids): printed without a stack, exits with EXIT.usage. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
