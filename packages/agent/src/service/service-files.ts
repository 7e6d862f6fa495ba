import path from "node:path";

/** What the service runs and how. */
export interface ServiceSpec {
  /** Absolute path of the Node binary. */
  execPath: string;
  /** Arguments after it: the gantry entry script, `agent`, `--config FILE`… */
  args: string[];
  workingDirectory: string;
  /** Run as this user (system units only). */
  user?: string;
  /** Seconds systemd/launchd waits after SIGTERM before killing: the drain timeout plus a margin. */
  stopTimeoutSecs: number;
  /** launchd has no journal: where stdout/stderr go. */
  logFile?: string;
}

export type ServiceScope = "user" | "system";
export const SERVICE_NAME = "gantry-agent";
export const LAUNCHD_LABEL = "com.gantry.agent";

/** Quotes one systemd ExecStart word (systemd.syntax: double quotes, backslash escapes). */
function systemdQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, "\\$1")}"`;
}

/**
 * The systemd unit. Restart=on-failure restarts after crashes but not after a clean stop; exit codes
 * 2 (bad config) and 3 (revoked identity) are not restarted, since retrying cannot fix them.
 */
export function systemdUnit(spec: ServiceSpec, scope: ServiceScope): string {
  const exec = [spec.execPath, ...spec.args].map(systemdQuote).join(" ");
  const lines = [
    "[Unit]",
    "Description=Gantry agent (runs offloaded compute jobs)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec}`,
    `WorkingDirectory=${systemdQuote(spec.workingDirectory)}`,
    ...(scope === "system" && spec.user ? [`User=${spec.user}`] : []),
    "Restart=on-failure",
    "RestartSec=5",
    "RestartPreventExitStatus=2 3",
    "# SIGTERM drains: running jobs may finish before the agent exits.",
    "KillSignal=SIGTERM",
    "KillMode=mixed",
    `TimeoutStopSec=${spec.stopTimeoutSecs}`,
    "NoNewPrivileges=true",
    "",
    "[Install]",
    `WantedBy=${scope === "system" ? "multi-user.target" : "default.target"}`,
    "",
  ];
  return lines.join("\n");
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The launchd plist. KeepAlive/SuccessfulExit=false: restarted when it exits with an error only. */
export function launchdPlist(spec: ServiceSpec, scope: ServiceScope): string {
  const args = [spec.execPath, ...spec.args].map((a) => `    <string>${xml(a)}</string>`).join("\n");
  const log = spec.logFile
    ? `  <key>StandardOutPath</key>\n  <string>${xml(spec.logFile)}</string>\n` +
      `  <key>StandardErrorPath</key>\n  <string>${xml(spec.logFile)}</string>\n`
    : "";
  const user = scope === "system" && spec.user ? `  <key>UserName</key>\n  <string>${xml(spec.user)}</string>\n` : "";
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>WorkingDirectory</key>
  <string>${xml(spec.workingDirectory)}</string>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>5</integer>
  <key>ExitTimeOut</key>
  <integer>${spec.stopTimeoutSecs}</integer>
${user}${log}</dict>
</plist>
`;
}

/** Where the unit or plist goes. */
export function serviceFilePath(platform: NodeJS.Platform, scope: ServiceScope, home: string): string {
  if (platform === "darwin") {
    return scope === "system"
      ? `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`
      : path.posix.join(home, "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  }
  return scope === "system"
    ? `/etc/systemd/system/${SERVICE_NAME}.service`
    : path.posix.join(home, ".config", "systemd", "user", `${SERVICE_NAME}.service`);
}
