import { useEffect, useRef, useState } from "preact/hooks";
import { bytes } from "../format.ts";
import type { Session } from "../state/session.ts";

type FileRow = { name: string; hash: string; size: number };

const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp|svg)$/i;
const PLAYLIST = /\.m3u8$/i;

/** Reads a job file with the session's token (file routes take no ?token=, so no plain <img src>). */
async function fetchFile(session: Session, jobId: string, name: string): Promise<Blob> {
  const r = await fetch(`${session.url}/v1/jobs/${encodeURIComponent(jobId)}/files/${encodeURIComponent(name)}`, {
    headers: { authorization: `Bearer ${await session.token()}` },
  });
  if (!r.ok) throw new Error(`${name}: ${r.status}`);
  return r.blob();
}

/** A job's output files: images shown, HLS playlists played (hls.js, loaded only when needed), the rest downloadable. */
export function JobFiles(props: { session: Session; jobId: string; version: number }) {
  const { session, jobId } = props;
  const [files, setFiles] = useState<FileRow[]>([]);
  useEffect(() => {
    session.client.listJobFiles(jobId).then(setFiles, () => setFiles([]));
  }, [jobId, props.version]);
  if (files.length === 0) return null;
  return (
    <>
      <h2>Output files</h2>
      <ul class="files">
        {files.map((f) => (
          <li key={f.name}>
            <FileItem session={session} jobId={jobId} file={f} />
          </li>
        ))}
      </ul>
    </>
  );
}

function FileItem(props: { session: Session; jobId: string; file: FileRow }) {
  const { session, jobId, file } = props;
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    if (!IMAGE.test(file.name)) return;
    let url: string | null = null;
    fetchFile(session, jobId, file.name).then(
      (b) => {
        url = URL.createObjectURL(b);
        setSrc(url);
      },
      () => {},
    );
    return () => {
      if (url) URL.revokeObjectURL(url);
    };
  }, [file.hash]);
  const download = async () => {
    const url = URL.createObjectURL(await fetchFile(session, jobId, file.name));
    const a = document.createElement("a");
    a.href = url;
    a.download = file.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <figure class="file">
      {src ? <img src={src} alt={file.name} loading="lazy" /> : null}
      {PLAYLIST.test(file.name) ? <HlsVideo session={session} jobId={jobId} name={file.name} /> : null}
      <figcaption>
        <code>{file.name}</code> <span class="muted">{bytes(file.size)}</span>{" "}
        <button type="button" class="link" onClick={download}>
          Download
        </button>
      </figcaption>
    </figure>
  );
}

function HlsVideo(props: { session: Session; jobId: string; name: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const { session, jobId, name } = props;
    const url = `${session.url}/v1/jobs/${encodeURIComponent(jobId)}/files/${encodeURIComponent(name)}`;
    let destroy = () => {};
    void (async () => {
      const token = await session.token();
      const { default: Hls } = await import("hls.js");
      if (!Hls.isSupported()) {
        setError("This browser cannot play HLS here.");
        return;
      }
      // Segments are files of the same job, next to the playlist; every request carries the token.
      const hls = new Hls({ xhrSetup: (xhr) => xhr.setRequestHeader("authorization", `Bearer ${token}`) });
      hls.loadSource(url);
      hls.attachMedia(video.current!);
      hls.on(Hls.Events.ERROR, (_e, d) => d.fatal && setError(`Playback failed: ${d.details}`));
      destroy = () => hls.destroy();
    })();
    return () => destroy();
  }, [props.jobId, props.name]);
  return (
    <>
      {/* biome-ignore lint/a11y/useMediaCaption: job outputs carry no caption track */}
      <video ref={video} controls preload="metadata" aria-label={`Video ${props.name}`} />
      {error ? <p class="error">{error}</p> : null}
    </>
  );
}
