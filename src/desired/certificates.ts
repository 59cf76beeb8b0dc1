// TLS certificate files named by apps (tls: { certFile, keyFile }), read on every pass so that a renewed
// pair is served without a restart: the route carries a digest of the pair, and a new digest makes the
// data plane read the files again. A pair that cannot be used (unreadable, not PEM, a key that does not
// match, expired, a claimed name it does not cover) is refused with its location, and the app is left as
// it is: the data plane keeps serving the pair it has.
import { createHmac, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { AppSpec, DesiredState, TlsFiles } from '../core/app.js';
import { SwitchyardError } from '../core/errors.js';
import { certCovers } from '../core/hostname.js';
import type { SecretReader } from '../core/stores.js';

export async function resolveCertificates(state: DesiredState, reader: SecretReader | undefined, now: number): Promise<{ state: DesiredState; errors: Map<string, SwitchyardError[]> }> {
  const errors = new Map<string, SwitchyardError[]>();
  const apps = await Promise.all(
    state.apps.map(async (app) => {
      const tls = app.edge.tls;
      if (typeof tls !== 'object') return app;
      try {
        if (!reader) throw new Error('this agent reads no certificate files');
        const [cert, key] = await Promise.all([reader.read(tls.certFile), reader.read(tls.keyFile)]);
        const problem = pairProblem(cert, key, app.edge.hosts, now);
        if (problem) throw new Error(problem);
        const digest = createHmac('sha256', reader.hashKey ?? new Uint8Array()).update(`${cert}\0${key}`).digest('hex');
        return { ...app, edge: { ...app.edge, tls: { ...tls, digest } } } satisfies AppSpec;
      } catch (e) {
        errors.set(app.name, [certificateError(app, tls, e)]);
        return app;
      }
    }),
  );
  return { state: { ...state, apps }, errors };
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
