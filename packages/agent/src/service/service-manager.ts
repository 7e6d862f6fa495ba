import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  LAUNCHD_LABEL,
  launchdPlist,
  SERVICE_NAME,
  type ServiceScope,
  type ServiceSpec,
  serviceFilePath,
  systemdUnit,
} from "./service-files.ts";

export interface ServiceRequest {
  spec: ServiceSpec;
  scope: ServiceScope;
  /** Print what would be written and run, change nothing. */
  dryRun?: boolean;
  platform?: NodeJS.Platform;
  home?: string;
  print: (line: string) => void;
}

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code) || 1 : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function plan(r: ServiceRequest) {
  const platform = r.platform ?? process.platform;
  if (platform !== "linux" && platform !== "darwin") {
    throw new Error(`service install supports systemd (Linux) and launchd (macOS), not ${platform}`);
  }
  const file = serviceFilePath(platform, r.scope, r.home ?? os.homedir());
  const text = platform === "darwin" ? launchdPlist(r.spec, r.scope) : systemdUnit(r.spec, r.scope);
  const userFlag = r.scope === "user" ? ["--user"] : [];
  const domain = r.scope === "user" ? `gui/${process.getuid?.() ?? 0}` : "system";
  return { platform, file, text, userFlag, domain };
}

async function steps(r: ServiceRequest, commands: string[][]): Promise<number> {
  for (const [cmd, ...args] of commands) {
    r.print(`$ ${cmd} ${args.join(" ")}`);
    if (r.dryRun) continue;
    const res = await run(cmd!, args);
    if (res.out.trim()) r.print(res.out.trim());
    if (res.code !== 0) return res.code;
  }
  return 0;
}

/** Writes the unit/plist and enables + starts it. With dryRun, prints the file and the commands. */
export async function installService(r: ServiceRequest): Promise<number> {
  const p = plan(r);
  r.print(`# ${p.file}`);
  if (r.dryRun) r.print(p.text);
  else {
    fs.mkdirSync(path.dirname(p.file), { recursive: true });
    fs.writeFileSync(p.file, p.text, { mode: 0o644 });
  }
  return p.platform === "darwin"
    ? steps(r, [["launchctl", "bootstrap", p.domain, p.file]])
    : steps(r, [
        ["systemctl", ...p.userFlag, "daemon-reload"],
        ["systemctl", ...p.userFlag, "enable", "--now", SERVICE_NAME],
      ]);
}

/** Stops, disables and removes the service. */
export async function uninstallService(r: ServiceRequest): Promise<number> {
  const p = plan(r);
  const code =
    p.platform === "darwin"
      ? await steps(r, [["launchctl", "bootout", `${p.domain}/${LAUNCHD_LABEL}`]])
      : await steps(r, [["systemctl", ...p.userFlag, "disable", "--now", SERVICE_NAME]]);
  r.print(`# remove ${p.file}`);
  if (!r.dryRun) fs.rmSync(p.file, { force: true });
  if (p.platform === "linux") await steps(r, [["systemctl", ...p.userFlag, "daemon-reload"]]);
  return code;
}

/** Shows the service manager's view. */
export async function serviceStatus(r: ServiceRequest): Promise<number> {
  const p = plan(r);
  if (!fs.existsSync(p.file)) {
    r.print(`not installed (${p.file} does not exist)`);
    return 3;
  }
  return p.platform === "darwin"
    ? steps(r, [["launchctl", "print", `${p.domain}/${LAUNCHD_LABEL}`]])
    : steps(r, [["systemctl", ...p.userFlag, "status", "--no-pager", SERVICE_NAME]]);
}
