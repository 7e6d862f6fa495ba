/** Pure parsers for the OS name shown at registration ("Ubuntu 22.04.3 LTS", "macOS 14.0", "Windows 11 Pro"). */

/** `/etc/os-release` → PRETTY_NAME, else NAME + VERSION_ID. */
export function parseOsRelease(text: string): { name: string; version: string | null } | null {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ""));
  }
  const pretty = fields.get("PRETTY_NAME");
  const name = fields.get("NAME");
  const version = fields.get("VERSION_ID") ?? null;
  if (pretty) return { name: pretty, version };
  if (name) return { name: version ? `${name} ${version}` : name, version };
  return null;
}

/** `sw_vers` output → "macOS 14.0". */
export function parseSwVers(text: string): { name: string; version: string | null } | null {
  const m = /ProductVersion:\s*(\S+)/.exec(text);
  if (!m) return null;
  return { name: `macOS ${m[1]}`, version: m[1]! };
}

/** The Win32_OperatingSystem caption ("Microsoft Windows 11 Pro") → "Windows 11 Pro". */
export function parseWindowsCaption(text: string): { name: string; version: string | null } | null {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => /windows/i.test(l) && !/^caption$/i.test(l));
  if (!line) return null;
  const name = line.replace(/^Microsoft\s+/i, "");
  const version = /Windows\s+(\S+)/i.exec(name)?.[1] ?? null;
  return { name, version };
}

/** Node's arch → the seed's names (`x86_64`, `arm64`, `i686`). */
export function archName(arch: string): string {
  return ({ x64: "x86_64", arm64: "arm64", ia32: "i686", arm: "armv7l" } as Record<string, string>)[arch] ?? arch;
}
