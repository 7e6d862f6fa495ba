/** The parts of HLS playlists (RFC 8216) the plugin reports and the tests check. */

export interface MasterEntry {
  uri: string;
  bandwidth: number;
  resolution: { width: number; height: number } | null;
}

/** `#EXT-X-STREAM-INF` entries of a master playlist; throws when it is not one. */
export function parseMasterPlaylist(text: string): MasterEntry[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an M3U8 playlist (no #EXTM3U)");
  const entries: MasterEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith("#EXT-X-STREAM-INF:")) continue;
    const attrs = line.slice("#EXT-X-STREAM-INF:".length);
    const bandwidth = Number(/(?:^|,)BANDWIDTH=(\d+)/.exec(attrs)?.[1]);
    const res = /(?:^|,)RESOLUTION=(\d+)x(\d+)/.exec(attrs);
    const uri = lines.slice(i + 1).find((l) => l !== "" && !l.startsWith("#"));
    if (!uri || !Number.isFinite(bandwidth)) throw new Error(`malformed stream entry: ${line}`);
    entries.push({ uri, bandwidth, resolution: res ? { width: Number(res[1]), height: Number(res[2]) } : null });
  }
  if (entries.length === 0) throw new Error("master playlist lists no streams");
  return entries;
}

/** Segment URIs of a media playlist, in order, and whether it is complete (`#EXT-X-ENDLIST`). */
export function parseMediaPlaylist(text: string): { segments: string[]; durations: number[]; ended: boolean } {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an M3U8 playlist (no #EXTM3U)");
  const segments: string[] = [];
  const durations: number[] = [];
  for (const line of lines) {
    if (line.startsWith("#EXTINF:")) durations.push(Number.parseFloat(line.slice(8)));
    else if (line !== "" && !line.startsWith("#")) segments.push(line);
  }
  return { segments, durations, ended: lines.includes("#EXT-X-ENDLIST") };
}
