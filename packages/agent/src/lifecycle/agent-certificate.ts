import { webcrypto } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

type X509 = typeof import("@peculiar/x509");
let x509Module: Promise<X509> | undefined;

/**
 * @peculiar/x509 on first use: only enrolment against an https server needs it, and an idle agent
 * would otherwise hold its ASN.1 schemas for good (docs/agent.md "Memory").
 */
function loadX509(): Promise<X509> {
  x509Module ??= import("@peculiar/x509").then((x509) => {
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  });
  return x509Module;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A fresh agent key and its certificate request, both PEM; the key never leaves this machine. */
export interface AgentCsr {
  csr: string;
  keyPem: string;
}

/** Generates an ECDSA P-256 key and a PKCS#10 request for it (the server sets the subject: the agent id). */
export async function newAgentCsr(): Promise<AgentCsr> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=gantry-agent",
    keys,
    signingAlgorithm: ALG,
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { csr: csr.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

/**
 * Where seed 004 keeps an agent's certificate files: `<config dir>/certs/`. `csrFile` is the request
 * `gantry agent init` leaves there until enrolment turns it into `agent.pem`.
 */
export function agentCertPaths(configPath: string): {
  certFile: string;
  keyFile: string;
  caFile: string;
  csrFile: string;
} {
  const dir = path.join(path.dirname(path.resolve(configPath)), "certs");
  return {
    certFile: path.join(dir, "agent.pem"),
    keyFile: path.join(dir, "agent-key.pem"),
    caFile: path.join(dir, "ca.pem"),
    csrFile: path.join(dir, "agent.csr"),
  };
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}

/**
 * `gantry agent init` against an https server: generates the agent's key (`certs/agent-key.pem`,
 * 0600) and its certificate request (`certs/agent.csr`), which the first enrolment sends. A request
 * already waiting there is kept (running init twice does not change the key).
 */
export async function prepareAgentCsr(configPath: string): Promise<{ keyFile: string; csrFile: string }> {
  const p = agentCertPaths(configPath);
  if (await readPendingCsr(configPath)) return { keyFile: p.keyFile, csrFile: p.csrFile };
  const csr = await newAgentCsr();
  fs.mkdirSync(path.dirname(p.csrFile), { recursive: true, mode: 0o700 });
  // Key first: a request never waits without its key.
  writeAtomic(p.keyFile, csr.keyPem, 0o600);
  writeAtomic(p.csrFile, csr.csr, 0o644);
  return { keyFile: p.keyFile, csrFile: p.csrFile };
}

/** The request (and key) `gantry agent init` left under `certs/`, if it is there and whole. */
export async function readPendingCsr(configPath: string): Promise<AgentCsr | undefined> {
  const p = agentCertPaths(configPath);
  const x509 = await loadX509();
  try {
    const csr = fs.readFileSync(p.csrFile, "utf8");
    const keyPem = fs.readFileSync(p.keyFile, "utf8");
    new x509.Pkcs10CertificateRequest(csr); // a damaged file: make a new request instead
    return csr.includes("CERTIFICATE REQUEST") && keyPem.includes("PRIVATE KEY") ? { csr, keyPem } : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the issued certificate, its key (0600) and the agent CA under `<config dir>/certs/`. */
export function saveAgentCertificate(
  configPath: string,
  files: { certificate: string; keyPem: string; caCertificate: string },
): { certFile: string; keyFile: string } {
  const p = agentCertPaths(configPath);
  fs.mkdirSync(path.dirname(p.certFile), { recursive: true, mode: 0o700 });
  writeAtomic(p.keyFile, files.keyPem, 0o600);
  writeAtomic(p.certFile, files.certificate, 0o644);
  writeAtomic(p.caFile, files.caCertificate, 0o644);
  fs.rmSync(p.csrFile, { force: true }); // answered
  return { certFile: p.certFile, keyFile: p.keyFile };
}
