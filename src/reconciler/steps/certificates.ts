// After apply: the ACME certificates the apps need are ordered (or renewed), each only once its host
// names are served on the shared plain-HTTP port, where the data plane answers the HTTP-01 challenge.
// Orders run in the background (adapters/acme); the next pass serves what they stored. Sets nothing:
// what an order did is reported by the host-files step of a later pass (CertificateFailed).
import type { DesiredState } from '../../core/app.js';
import type { CertificateIssuer } from '../../core/certificates.js';
import type { Memory } from '../memory.js';

export function orderCertificates(desired: DesiredState | undefined, memory: Memory, acme: CertificateIssuer | undefined): void {
  if (!acme || !desired) return;
  for (const app of desired.apps) {
    if (app.edge.tls !== 'acme') continue;
    const served = memory.applied.get(app.name)?.spec.edge.hosts ?? [];
    if (app.edge.hosts.every((h) => served.includes(h))) acme.want(app.edge.hosts);
  }
}
