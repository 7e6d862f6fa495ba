/** The last non-empty line of `text` that parses as a JSON object, or undefined. */
export function lastJsonLine(text: string): unknown {
  const lines = text.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line) continue;
    if (!line.startsWith("{")) return undefined;
    try {
      return JSON.parse(line);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
