// `gridwatch-cloud certs`: a private CA and a server certificate for small installs (node:crypto
// cannot issue X.509, so this drives the openssl CLI). Gateways trust ca.crt (`tls.ca` in their
// config); the broker serves server.crt/server.key on its mqtts port. Keys are written 0600.
import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertOptions {
  dir: string;
  /** DNS names and IP addresses the server certificate is valid for. */
  hosts: string[];
  days: number;
}

export interface CertFiles {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

function subjectAltNames(hosts: string[]): string {
  return hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',');
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: string };
    throw new Error(e.code === 'ENOENT' ? 'certs: openssl not found (install it, e.g. apt-get install openssl)' : `certs: openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

export async function createCertificates(options: CertOptions): Promise<CertFiles> {
  if (options.hosts.length === 0) throw new Error('certs: at least one --host');
  await mkdir(options.dir, { recursive: true });
  const file = (name: string): string => path.join(options.dir, name);
  const files: CertFiles = { caCert: file('ca.crt'), caKey: file('ca.key'), serverCert: file('server.crt'), serverKey: file('server.key') };
  const days = String(options.days);
  await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', files.caKey, '-out', files.caCert,
    '-days', days, '-subj', '/CN=GridWatch private CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const csr = file('server.csr');
  await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', files.serverKey, '-out', csr, '-subj', `/CN=${options.hosts[0]}`]);
  const ext = file('server.ext');
  await writeFile(ext, `subjectAltName=${subjectAltNames(options.hosts)}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n`);
  await openssl(['x509', '-req', '-in', csr, '-CA', files.caCert, '-CAkey', files.caKey, '-CAcreateserial', '-out', files.serverCert, '-days', days, '-extfile', ext]);
  await Promise.all([chmod(files.caKey, 0o600), chmod(files.serverKey, 0o600)]);
  return files;
}
