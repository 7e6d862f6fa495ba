import fs from "node:fs";

/** TLS settings shared by the HTTP and WebSocket clients. */
export interface TlsOptions {
  /** Client certificate (PEM file) for mTLS. */
  certFile?: string;
  /** Client private key (PEM file) for mTLS. */
  keyFile?: string;
  /** CA bundle (PEM file) to trust instead of the system roots, e.g. a private server CA. */
  caFile?: string;
  /** Skip server certificate verification. Development only. */
  insecure?: boolean;
}

/** The node:tls fields for https.Agent and ws, with files read once. */
export interface TlsConnectOptions {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  rejectUnauthorized: boolean;
}

export function loadTls(options: TlsOptions): TlsConnectOptions {
  const out: TlsConnectOptions = { rejectUnauthorized: !options.insecure };
  if (options.certFile) out.cert = fs.readFileSync(options.certFile);
  if (options.keyFile) out.key = fs.readFileSync(options.keyFile);
  if (options.caFile) out.ca = fs.readFileSync(options.caFile);
  return out;
}
