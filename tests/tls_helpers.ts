/** TLS test helpers: certificates made by openssl at test time. */
import assert from "node:assert/strict";
import { run } from "./helpers.ts";

/**
 * A throw-away CA and a certificate it signs for localhost and 127.0.0.1, made by openssl at test
 * time (rustls refuses a self-signed CA certificate used as the server's own).
 */
export async function makeCertificate(): Promise<
  { dir: string; ca: string; cert: string; key: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-tls-" });
  const openssl = async (...args: string[]) => {
    const out = await run("openssl", args);
    assert.equal(out.code, 0, out.stderr);
  };
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
    "-keyout",
    `${dir}/ca-key.pem`,
    "-out",
    `${dir}/ca.pem`,
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/server.csr`,
  );
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await openssl(
    "x509",
    "-req",
    "-in",
    `${dir}/server.csr`,
    "-CA",
    `${dir}/ca.pem`,
    "-CAkey",
    `${dir}/ca-key.pem`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    `${dir}/ext.cnf`,
    "-out",
    `${dir}/cert.pem`,
  );
  return {
    dir,
    ca: await Deno.readTextFile(`${dir}/ca.pem`),
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}
