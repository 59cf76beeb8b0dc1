// One ACME order (RFC 8555) through acme-client: an account for the configured email (made once, its key
// kept by the caller), a new key and CSR for the names, HTTP-01 or TLS-ALPN-01 challenges answered by the
// data plane,
// and the issued chain. The ACME server's own TLS certificate is checked against `caFile` when given.
// acme-client (and its axios) is loaded on first use: an agent with no `tls: acme` app never carries it.
import { Agent, get } from 'node:https';
import { get as getPlain } from 'node:http';
import type * as AcmeClient from 'acme-client';
import type { ChallengeResponder, ChallengeType } from '../../core/certificates.js';

export interface AcmeAccount {
  directory: string;
  email: string;
  /** PEM of the account's private key. */
  accountKey: string;
  /** Trust for the ACME server itself (PEM); absent: the system's CAs. */
  ca?: Buffer;
}

export type Order = (names: readonly string[]) => Promise<{ certPem: string; keyPem: string }>;

const load = async (): Promise<typeof AcmeClient.default> => (await import('acme-client')).default;

/** `types`: the challenges this agent can answer, in the order it prefers them. */
export function acmeOrder(account: AcmeAccount, responder: ChallengeResponder, types: readonly ChallengeType[] = responder.challengeTypes): Order {
  const connect = async () => {
    const acme = await load();
    // acme-client sends every request through its one axios instance: its trust is set once, here. Its own
    // retries of a failed request are cut short: a failed order is tried again by the issuer's backoff.
    if (account.ca) acme.axios.defaults.httpsAgent = new Agent({ ca: account.ca, keepAlive: false });
    Object.assign((acme.axios.defaults as { acmeSettings?: object }).acmeSettings ?? {}, { retryMaxAttempts: 2, retryDefaultDelay: 1 });
    return { acme, client: new acme.Client({ directoryUrl: account.directory, accountKey: account.accountKey, backoffAttempts: 10, backoffMin: 500, backoffMax: 5000 }) };
  };
  let connected: ReturnType<typeof connect> | undefined;
  return async (names) => {
    await directoryAnswers(account);
    const { acme, client } = await (connected ??= connect());
    const [key, csr] = await acme.crypto.createCsr({ commonName: names[0]!, altNames: [...names] }, await acme.crypto.createPrivateEcdsaKey());
    const certPem = await client
      .auto({
      csr,
      email: account.email,
      termsOfServiceAgreed: true,
      // HTTP-01 where the agent has a plain-HTTP port (it is the one every ACME server offers), else TLS-ALPN-01.
      challengePriority: [...types],
      // The server checks the challenge itself; checking it from here first would need the names to
      // resolve to this host from here, which behind a load balancer they may not.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        // acme-client's types know HTTP-01 and DNS-01 only; it hands TLS-ALPN-01 challenges through all the same.
        if ((challenge.type as string) !== 'tls-alpn-01') return responder.answer(challenge.token, keyAuthorization);
        const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
        return responder.answerTlsAlpn(authz.identifier.value, alpnCert.toString(), alpnKey.toString());
      },
      challengeRemoveFn: (authz, challenge) => ((challenge.type as string) === 'tls-alpn-01' ? responder.withdrawTlsAlpn(authz.identifier.value) : responder.withdraw(challenge.token)),
    })
      .catch((e: unknown) => {
        throw new Error(`ACME directory ${account.directory}: ${(e as Error).message ?? String(e)}`, { cause: e });
      });
    return { certPem, keyPem: key.toString() };
  };
}

/** A new account key (PEM). */
export async function newAccountKey(): Promise<string> {
  return (await (await load()).crypto.createPrivateEcdsaKey()).toString();
}

/**
 * Fails with the reason when the directory does not answer 200: acme-client loses the network error of a
 * request it has given up retrying, and says only that it cannot read a property of undefined.
 */
function directoryAnswers(account: AcmeAccount): Promise<void> {
  const fetch = account.directory.startsWith('https:') ? get : getPlain;
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`ACME directory ${account.directory} does not answer: ${why}`));
    const req = fetch(account.directory, { timeout: 10_000, ...(account.ca ? { ca: account.ca } : {}) }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(`HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  });
}
