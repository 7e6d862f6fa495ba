import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { unsafeFileNameReason } from "@gantry/protocol";
import { InvalidArgumentError } from "commander";

export interface FileArg {
  name: string;
  path: string;
}

/**
 * `--file PATH` or `--file NAME=PATH` (repeatable). A value that is itself an existing file is a
 * path even if it contains `=`. The name must be one the server accepts.
 */
export function parseFileArg(value: string, previous: FileArg[] = []): FileArg[] {
  let name: string;
  let path: string;
  const eq = value.indexOf("=");
  if (eq > 0 && !existsSync(value)) {
    name = value.slice(0, eq);
    path = value.slice(eq + 1);
  } else {
    path = value;
    name = basename(value);
  }
  const reason = unsafeFileNameReason(name);
  if (reason) throw new InvalidArgumentError(`file name "${name}" ${reason}`);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {}
  if (!isFile) throw new InvalidArgumentError(`${path} is not a readable file`);
  if (previous.some((f) => f.name === name)) throw new InvalidArgumentError(`two files are named "${name}"`);
  return [...previous, { name, path }];
}
