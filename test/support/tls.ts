// A certificate authority made in the test with Debian's openssl: leaf certificates for any names, signed
// by it, written as PEM files in the test's own folder. Clients trust `ca` and nothing else.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCa {
  /** The CA certificate (PEM), for a client's `ca` option. */
  ca: Buffer;
  /** A leaf certificate and key for these DNS names (or IPv4 addresses), as files `<dir>/<file>.pem` and `.key`. */
  issue(names: string[], file: string, opts?: { days?: number }): { certFile: string; keyFile: string };
}

const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...(input ? { input } : {}) });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function makeCa(dir: string): TestCa {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.pem');
  openssl(['req', '-x509', ...EC, '-keyout', caKey, '-out', caCert, '-subj', '/CN=switchyard test CA', '-days', '2']);
  return {
    ca: readFileSync(caCert),
    issue(names, file, opts = {}) {
      const keyFile = join(dir, `${file}.key`);
      const csr = join(dir, `${file}.csr`);
      const certFile = join(dir, `${file}.pem`);
      openssl(['req', '-new', ...EC, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${names[0]}`]);
      const ext = join(dir, `${file}.ext`);
      writeFileSync(ext, `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}\n`);
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', String(opts.days ?? 2), '-extfile', ext]);
      return { certFile, keyFile };
    },
  };
}
