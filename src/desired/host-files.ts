// The files on the agent's host that a desired state names, read on every pass: env files (secrets) and
// TLS certificate pairs. An app with one that cannot be used gets its errors and is left as it is.
import type { DesiredState } from '../core/app.js';
import type { SwitchyardError } from '../core/errors.js';
import type { SecretReader } from '../core/stores.js';
import { resolveCertificates, type CertificateInfo } from './certificates.js';
import type { CertificateIssuer } from '../core/certificates.js';
import { resolveEnvFiles } from './env-files.js';

export interface HostFileReaders {
  secrets: SecretReader;
  /** Reads under the policy's certPaths; absent: no certificate file can be read. */
  certificates?: SecretReader;
  /** Certificates ordered from an ACME directory (tls: acme); absent: none. */
  acme?: CertificateIssuer;
}

export async function readHostFiles(
  desired: DesiredState,
  readers: HostFileReaders,
  now: number,
): Promise<{ state: DesiredState; unreadable: Map<string, SwitchyardError[]>; certificates: Map<string, CertificateInfo> }> {
  const env = await resolveEnvFiles(desired, readers.secrets);
  const certs = await resolveCertificates(env.state, readers.certificates, now, readers.acme);
  const unreadable = new Map(env.errors);
  for (const [app, errors] of certs.errors) unreadable.set(app, [...(unreadable.get(app) ?? []), ...errors]);
  return { state: certs.state, unreadable, certificates: certs.info };
}
