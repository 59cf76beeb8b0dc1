// TLS certificate files named by apps (tls: { certFile, keyFile }), read on every pass so that a renewed
// pair is served without a restart: the route carries a digest of the pair, and a new digest makes the
// data plane read the files again. A pair that cannot be used (unreadable, not PEM, a key that does not
// match, expired, a claimed name it does not cover) is refused with its location, and the app is left as
// it is: the data plane keeps serving the pair it has. An app with tls: acme takes the pair the issuer
// has stored, or is served over plain HTTP until there is one.
import { createHmac, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { AppSpec, DesiredState, TlsFiles } from '../core/app.js';
import { SwitchyardError } from '../core/errors.js';
import { certCovers } from '../core/hostname.js';
import type { SecretReader } from '../core/stores.js';
import type { CertificateIssuer } from '../core/certificates.js';

/** What a pass knows of each TLS app's certificate, for its status and metrics. */
export interface CertificateInfo {
  source: 'files' | 'acme';
  /** Epoch ms; absent while there is no usable pair. */
  notAfter?: number;
  /** Why there is no usable pair (or no new one), with its code. */
  error?: SwitchyardError;
}

export async function resolveCertificates(
  state: DesiredState,
  reader: SecretReader | undefined,
  now: number,
  acme?: CertificateIssuer,
): Promise<{ state: DesiredState; errors: Map<string, SwitchyardError[]>; info: Map<string, CertificateInfo> }> {
  const errors = new Map<string, SwitchyardError[]>();
  const info = new Map<string, CertificateInfo>();
  const apps = await Promise.all(
    state.apps.map(async (app) => {
      const tls = app.edge.tls;
      if (tls === 'acme') {
        const { spec, ...about } = fromAcme(app, acme);
        info.set(app.name, about);
        return spec;
      }
      if (typeof tls !== 'object') return app;
      try {
        if (!reader) throw new Error('this agent reads no certificate files');
        const [cert, key] = await Promise.all([reader.read(tls.certFile), reader.read(tls.keyFile)]);
        const problem = pairProblem(cert, key, app.edge.hosts, now);
        if (problem) throw new Error(problem);
        const digest = createHmac('sha256', reader.hashKey ?? new Uint8Array()).update(`${cert}\0${key}`).digest('hex');
        info.set(app.name, { source: 'files', notAfter: Date.parse(new X509Certificate(cert).validTo) });
        return { ...app, edge: { ...app.edge, tls: { ...tls, digest } } } satisfies AppSpec;
      } catch (e) {
        const error = certificateError(app, tls, e);
        errors.set(app.name, [error]);
        info.set(app.name, { source: 'files', error });
        return app;
      }
    }),
  );
  return { state: { ...state, apps }, errors, info };
}

/**
 * An app with tls: acme is served with the stored pair when there is one, else over plain HTTP; a failed
 * order is reported, never waited on. (Orders are placed after the apply step: reconciler/steps/certificates.ts.)
 */
function fromAcme(app: AppSpec, acme: CertificateIssuer | undefined): CertificateInfo & { spec: AppSpec } {
  const names = app.edge.hosts;
  if (!acme) return { spec: app, source: 'acme', error: new SwitchyardError('CertificateFailed', `app "${app.name}": tls: acme, and this agent has no acme settings`, { location: { file: app.file, field: 'tls' }, hint: 'an operator sets acme.directory and acme.email in the agent config' }) };
  const pair = acme.current(names);
  const failed = acme.failure(names);
  const error = failed
    ? new SwitchyardError('CertificateFailed', `app "${app.name}": the ACME order for ${names.join(', ')} failed: ${failed.message}; tried again at ${new Date(failed.retryAt).toISOString()}`, {
        location: { file: app.file, field: 'tls' },
        hint: pair ? 'it is served on its current certificate meanwhile' : 'it is served over plain HTTP meanwhile; check that the names resolve to this host and that port 80 reaches the http entrypoint',
      })
    : undefined;
  const spec = pair ? { ...app, edge: { ...app.edge, tls: { certFile: pair.certFile, keyFile: pair.keyFile, digest: pair.digest } } } : app;
  return { spec, source: 'acme', ...(pair ? { notAfter: pair.notAfter } : {}), ...(error ? { error } : {}) };
}

function certificateError(app: AppSpec, tls: TlsFiles, e: unknown): SwitchyardError {
  const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
  return new SwitchyardError('CertificateFailed', `app "${app.name}": cannot use ${tls.certFile} and ${tls.keyFile}: ${why}`, {
    location: tls.location ?? { file: app.file, field: 'tls' },
    hint: 'put a valid PEM certificate chain and its key there (readable by the agent); the data plane keeps serving the pair it has',
  });
}

/** Why this PEM pair cannot serve these names now, or undefined when it can. */
export function pairProblem(certPem: string, keyPem: string, names: readonly string[], now: number): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'the certificate file holds no PEM certificate';
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return 'the key file holds no PEM private key';
  }
  if (!cert.checkPrivateKey(key)) return 'the key does not match the certificate';
  if (Date.parse(cert.validTo) <= now) return `the certificate expired on ${new Date(cert.validTo).toISOString()}`;
  const dns = (cert.subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const uncovered = names.filter((n) => !dns.some((d) => certCovers(d, n)));
  if (uncovered.length) return `the certificate does not cover ${uncovered.join(', ')} (it names ${dns.join(', ') || 'no DNS names'})`;
  try {
    createSecureContext({ cert: certPem, key: keyPem });
  } catch (e) {
    return `TLS refuses the pair: ${(e as Error).message}`;
  }
  return undefined;
}
