// Certificates from an ACME directory, kept in the state folder: one folder per set of names, its
// certificate and key owner-only (0600). Orders run in the background, one at a time per set of names;
// a failed one is tried again after a backoff that doubles (5 minutes up to 6 hours: Let's Encrypt
// allows 5 failed validations per name per hour), and a success wakes the agent so that the next pass
// serves the new pair.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RENEW_BEFORE_MS, type CertificateIssuer, type IssuedPair } from '../../core/certificates.js';
import type { Clock } from '../../core/clock.js';
import type { Order } from './acme-order.js';

export const FIRST_BACKOFF_MS = 5 * 60_000;
export const MAX_BACKOFF_MS = 6 * 3_600_000;

export interface AcmeIssuerOptions {
  /** The folder certificates are kept in (created owner-only). */
  dir: string;
  order: Order;
  clock: Clock;
  /** A new pair is stored (the agent runs a pass). */
  onIssued: (names: readonly string[]) => void;
  /** An order failed; it is tried again at `retryAt`. */
  onFailed?: (names: readonly string[], message: string, retryAt: number) => void;
  firstBackoffMs?: number;
}

interface Failure {
  message: string;
  at: number;
  retryAt: number;
  backoffMs: number;
}

/**
 * The pairs an issuer stored in `dir`, read-only: what `switchyard plan` sees the agent serve. It orders
 * nothing and knows no failures (those live in the agent's memory).
 */
export class StoredCertificates implements CertificateIssuer {
  private readonly stored = new Map<string, IssuedPair | null>();

  constructor(protected readonly dir: string, protected readonly clock: Clock) {}

  current(names: readonly string[]): IssuedPair | undefined {
    const key = keyOf(names);
    if (!this.stored.has(key)) this.reread(key);
    const pair = this.stored.get(key) ?? undefined;
    return pair && pair.notAfter > this.clock.now() ? pair : undefined;
  }

  want(_names: readonly string[]): void {}

  failure(_names: readonly string[]): { message: string; at: number; retryAt: number } | undefined {
    return undefined;
  }

  protected reread(key: string): void {
    this.stored.set(key, readPair(join(this.dir, 'certs', key)));
  }
}

export class AcmeIssuer extends StoredCertificates {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, Failure>();

  constructor(private readonly opts: AcmeIssuerOptions) {
    super(opts.dir, opts.clock);
    mkdirSync(join(opts.dir, 'certs'), { recursive: true, mode: 0o700 });
  }

  override want(names: readonly string[]): void {
    const key = keyOf(names);
    if (this.inFlight.has(key)) return;
    const now = this.opts.clock.now();
    const failure = this.failures.get(key);
    if (failure && now < failure.retryAt) return;
    const pair = this.current(names);
    if (pair && pair.notAfter - now > RENEW_BEFORE_MS) return;
    const order = this.order(key, [...names].sort()).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, order);
  }

  override failure(names: readonly string[]): { message: string; at: number; retryAt: number } | undefined {
    const f = this.failures.get(keyOf(names));
    return f && { message: f.message, at: f.at, retryAt: f.retryAt };
  }

  /** Resolves when no order is in flight (for tests and a clean stop). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.all(this.inFlight.values());
  }

  private async order(key: string, names: string[]): Promise<void> {
    try {
      const { certPem, keyPem } = await this.opts.order(names);
      const dir = join(this.opts.dir, 'certs', key);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // The key first: a reader that finds the new certificate finds its key.
      writeAtomically(join(dir, 'key.pem'), keyPem);
      writeAtomically(join(dir, 'cert.pem'), certPem);
      writeAtomically(join(dir, 'names.json'), `${JSON.stringify(names)}\n`);
      this.reread(key);
      this.failures.delete(key);
      this.opts.onIssued(names);
    } catch (e) {
      const before = this.failures.get(key);
      const backoffMs = before ? Math.min(before.backoffMs * 2, MAX_BACKOFF_MS) : (this.opts.firstBackoffMs ?? FIRST_BACKOFF_MS);
      const now = this.opts.clock.now();
      const message = (e as Error).message ?? String(e);
      this.failures.set(key, { message, at: now, retryAt: now + backoffMs, backoffMs });
      this.opts.onFailed?.(names, message, now + backoffMs);
    }
  }

}

/** The pair stored in a folder, or null when there is none (or it cannot be parsed). */
function readPair(dir: string): IssuedPair | null {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) return null;
  try {
    const pem = readFileSync(certFile, 'utf8');
    const cert = new X509Certificate(pem);
    return { certFile, keyFile, notAfter: Date.parse(cert.validTo), digest: createHash('sha256').update(pem).digest('hex') };
  } catch {
    return null;
  }
}

/** The folder name of a set of names: the same for the same names in any order. */
function keyOf(names: readonly string[]): string {
  return createHash('sha256').update([...names].sort().join('\n')).digest('hex').slice(0, 24);
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}
