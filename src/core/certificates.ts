// Certificates the agent obtains itself (tls: acme), behind a small interface so that the pass never
// waits on a certificate authority: it asks for what it wants, and uses what is already stored.
export interface IssuedPair {
  certFile: string;
  keyFile: string;
  /** Epoch ms. */
  notAfter: number;
  /** Of the certificate: a new one has a new digest, which makes the data plane load the pair again. */
  digest: string;
}

export interface CertificateIssuer {
  /** The stored pair for these names while it is valid; never waits on the network. */
  current(names: readonly string[]): IssuedPair | undefined;
  /**
   * Makes sure a pair for these names is stored or on its way: ordered at once when none is, again when
   * the stored one has 30 days or less left, not before the backoff of a failure is over. Returns at once.
   */
  want(names: readonly string[]): void;
  /** Why the last order for these names failed (since the last success), and when it is tried again. */
  failure(names: readonly string[]): { message: string; at: number; retryAt: number } | undefined;
}

export type ChallengeType = 'http-01' | 'tls-alpn-01';

/** The data plane's side of an order: it answers the challenges the certificate authority checks. */
export interface ChallengeResponder {
  /** The challenge types it can answer (HAProxy: HTTP-01 only). */
  readonly challengeTypes: readonly ChallengeType[];
  /** HTTP-01, on the shared plain-HTTP port, for any host. */
  answer(token: string, keyAuthorization: string): Promise<void>;
  withdraw(token: string): Promise<void>;
  /** TLS-ALPN-01 (RFC 8737), on the shared TLS port, to clients offering `acme-tls/1` for `name` only. */
  answerTlsAlpn(name: string, certPem: string, keyPem: string): Promise<void>;
  withdrawTlsAlpn(name: string): Promise<void>;
}

/** Renewal starts when this much validity is left. */
export const RENEW_BEFORE_MS = 30 * 24 * 3_600_000;
