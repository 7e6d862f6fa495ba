import { isRetryableSocketCode, isRetryableStatus } from "@gantry/protocol";
import { GantryApiError, GantryNetworkError } from "./errors.ts";

/** Whether a failed HTTP request may succeed if sent again, by the protocol's one retryability table. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof GantryApiError) return isRetryableStatus(error.status, error.code);
  if (error instanceof GantryNetworkError) return isRetryableSocketCode(error.code);
  return false;
}
