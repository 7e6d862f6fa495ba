import fs from "node:fs";
import path from "node:path";
import tls from "node:tls";

/** TLS settings shared by the HTTP and WebSocket clients. */
export interface TlsOptions {
  /** Client certificate (PEM file) for mTLS. Needs `keyFile`. */
  certFile?: string;
  /** Client private key (PEM file, unencrypted) for mTLS. Needs `certFile`. */
  keyFile?: string;
  /** CA bundle (PEM file) to trust instead of the system roots, e.g. a private server CA. */
  caFile?: string;
  /** Skip server certificate verification. Development only. @defaultValue false */
  insecure?: boolean;
}

/** The node:tls fields for https.Agent and ws, with files read once. */
export interface TlsConnectOptions {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
  rejectUnauthorized: boolean;
}

/** A TLS setting that cannot work (missing file, certificate without key, key not matching). */
export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsConfigError";
  }
}

/** Field by field, `given` wins over `saved`; file paths become absolute (a service runs elsewhere). */
export function mergeTls(
  given: TlsOptions | undefined,
  saved: TlsOptions | undefined,
  cwd = process.cwd(),
): TlsOptions {
  const out: TlsOptions = {};
  for (const f of ["certFile", "keyFile", "caFile"] as const) {
    const v = given?.[f] ?? saved?.[f];
    if (v) out[f] = path.resolve(cwd, v);
  }
  if (given?.insecure ?? saved?.insecure) out.insecure = true;
  return out;
}

/**
 * Reads the files and checks them now, so a bad setting is one clear start-up error rather than a
 * TLS exception thrown from inside a socket constructor later.
 */
export function loadTls(options: TlsOptions): TlsConnectOptions {
  if (Boolean(options.certFile) !== Boolean(options.keyFile)) {
    throw new TlsConfigError("mTLS needs both a client certificate (--tls-cert) and its private key (--tls-key)");
  }
  const read = (file: string, what: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new TlsConfigError(`cannot read the ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const out: TlsConnectOptions = { rejectUnauthorized: !options.insecure };
  if (options.certFile) out.cert = read(options.certFile, "client certificate");
  if (options.keyFile) out.key = read(options.keyFile, "client key");
  if (options.caFile) out.ca = read(options.caFile, "CA file");
  try {
    tls.createSecureContext({ cert: out.cert, key: out.key, ca: out.ca });
  } catch (err) {
    throw new TlsConfigError(`unusable TLS files: ${(err as Error).message}`);
  }
  return out;
}

/** Handshake failures, by node/OpenSSL error code, and what the operator should do about them. */
const TLS_HINTS: Record<string, string> = {
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    "the server requires a client certificate (mTLS): pass --tls-cert FILE and --tls-key FILE",
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE:
    "the server refused the TLS handshake; if it requires a client certificate (mTLS), pass --tls-cert and --tls-key",
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA:
    "the server does not trust this agent's client certificate: it must be signed by the CA the server was given",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: "the server rejected this agent's client certificate",
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: "the server says this agent's client certificate has expired",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the server's certificate is signed by a CA this agent does not trust: pass --ca FILE (or --insecure, development only)",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "the server's certificate is self-signed: pass --ca FILE with it (or --insecure, development only)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the server's certificate chain cannot be verified: pass --ca FILE with its CA (or --insecure, development only)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the server's certificate issuer is unknown here: pass --ca FILE with its CA (or --insecure, development only)",
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate does not name the host in the server URL",
  ERR_SSL_WRONG_VERSION_NUMBER: "the server did not answer with TLS: is the URL https:// by mistake?",
};

/**
 * The error's message, with what to do when it is a known TLS failure. Over TLS a bare reset is
 * often a refused client certificate (TLS 1.3 servers may just drop the connection), so say so.
 */
export function explainNetError(err: unknown, overTls = false): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = String(e?.message ?? err);
  const hint = typeof e?.code === "string" ? TLS_HINTS[e.code] : undefined;
  if (hint) return `${hint} (${e.code})`;
  if (overTls && (e?.code === "ECONNRESET" || /socket hang up/i.test(message))) {
    return `${message}: the server closed the TLS connection; if it requires mTLS, check that the client certificate (--tls-cert) is signed by the server's CA`;
  }
  return message;
}
