import { randomBytes, webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GantryError } from "@gantry/protocol";
import * as x509 from "@peculiar/x509";
import { writeFileAtomic } from "../util/atomic-write.ts";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** Agent certificates live a year; they are re-issued at re-enrolment and die with the agent. */
const AGENT_CERT_DAYS = 365;
const CA_YEARS = 10;

/**
 * The server's own CA for agent client certificates (`--agent-mtls`, seed 004). Kept in
 * `<dataDir>/agent-ca/` (key 0600). At enrolment it signs the agent's CSR into a certificate whose
 * subject CN is the agent id, so every later connection can be checked against the id it claims.
 */
export class AgentCa {
  readonly certPem: string;
  readonly #cert: x509.X509Certificate;
  readonly #key: CryptoKey;

  private constructor(certPem: string, key: CryptoKey) {
    this.certPem = certPem;
    this.#cert = new x509.X509Certificate(certPem);
    this.#key = key;
  }

  static async load(dataDir: string): Promise<AgentCa> {
    const dir = join(dataDir, "agent-ca");
    const certPath = join(dir, "ca.pem");
    const keyPath = join(dir, "ca-key.pem");
    if (existsSync(certPath) && existsSync(keyPath)) {
      const der = x509.PemConverter.decodeFirst(readFileSync(keyPath, "utf8"));
      const key = await webcrypto.subtle.importKey("pkcs8", der, ALG, false, ["sign"]);
      return new AgentCa(readFileSync(certPath, "utf8"), key);
    }
    const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16).toString("hex"),
      name: "CN=Gantry agent CA",
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + CA_YEARS * 365 * 864e5),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    // Key first: a crash between the two writes leaves no certificate without its key.
    writeFileAtomic(keyPath, x509.PemConverter.encode(pkcs8, "PRIVATE KEY"));
    writeFileAtomic(certPath, cert.toString("pem"));
    return new AgentCa(cert.toString("pem"), keys.privateKey);
  }

  /** Signs a PEM CSR (its signature checked) into a client certificate for `agentId`. */
  async sign(csrPem: string, agentId: string, days = AGENT_CERT_DAYS): Promise<string> {
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) throw new Error("bad signature");
    } catch {
      throw new GantryError("agent_csr_invalid");
    }
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(16).toString("hex"),
      subject: `CN=${agentId}`,
      issuer: this.#cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days * 864e5),
      signingKey: this.#key,
      publicKey: csr.publicKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: `urn:gantry:agent:${agentId}` }]),
      ],
    });
    return cert.toString("pem");
  }
}
