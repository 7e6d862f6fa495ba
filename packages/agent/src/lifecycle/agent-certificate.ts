import { webcrypto } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A fresh agent key and its certificate request, both PEM; the key never leaves this machine. */
export interface AgentCsr {
  csr: string;
  keyPem: string;
}

/** Generates an ECDSA P-256 key and a PKCS#10 request for it (the server sets the subject: the agent id). */
export async function newAgentCsr(): Promise<AgentCsr> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: "CN=gantry-agent",
    keys,
    signingAlgorithm: ALG,
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { csr: csr.toString("pem"), keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

/** Where seed 004 keeps an agent's certificate files: `<config dir>/certs/`. */
export function agentCertPaths(configPath: string): { certFile: string; keyFile: string; caFile: string } {
  const dir = path.join(path.dirname(path.resolve(configPath)), "certs");
  return {
    certFile: path.join(dir, "agent.pem"),
    keyFile: path.join(dir, "agent-key.pem"),
    caFile: path.join(dir, "ca.pem"),
  };
}

/** Writes the issued certificate, its key (0600) and the agent CA under `<config dir>/certs/`. */
export function saveAgentCertificate(
  configPath: string,
  files: { certificate: string; keyPem: string; caCertificate: string },
): { certFile: string; keyFile: string } {
  const p = agentCertPaths(configPath);
  fs.mkdirSync(path.dirname(p.certFile), { recursive: true, mode: 0o700 });
  const write = (file: string, text: string, mode: number) => {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode });
    fs.renameSync(tmp, file);
  };
  write(p.keyFile, files.keyPem, 0o600);
  write(p.certFile, files.certificate, 0o644);
  write(p.caFile, files.caCertificate, 0o644);
  return { certFile: p.certFile, keyFile: p.keyFile };
}
