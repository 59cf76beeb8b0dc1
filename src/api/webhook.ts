// Verifies a git push webhook: GitHub's X-Hub-Signature-256 (HMAC-SHA256 of the raw body) or GitLab's
// X-Gitlab-Token, compared in constant time. The payload itself is never trusted: a valid call only
// makes the agent fetch now.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type WebhookVerdict = { ok: true; provider: 'github' | 'gitlab' } | { ok: false; why: string };

/** How many delivery ids are remembered: a forge retries a delivery within minutes, not thousands later. */
const REMEMBERED_DELIVERIES = 1000;

/**
 * Deliveries already taken, by their id (GitHub's X-GitHub-Delivery, GitLab's X-Gitlab-Event-UUID): a
 * redelivery, or a replay of a captured request, triggers nothing more.
 */
export class Deliveries {
  private readonly seen = new Set<string>();

  /** True the first time an id is seen (or when the request has none). */
  first(headers: IncomingHttpHeaders): boolean {
    const id = headers['x-github-delivery'] ?? headers['x-gitlab-event-uuid'];
    if (typeof id !== 'string' || !id) return true;
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_DELIVERIES) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

export function verifyWebhook(secret: string, headers: IncomingHttpHeaders, body: Buffer): WebhookVerdict {
  const github = headers['x-hub-signature-256'];
  if (typeof github === 'string') {
    const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    return sameSecret(github, expected) ? { ok: true, provider: 'github' } : { ok: false, why: 'X-Hub-Signature-256 does not match the body' };
  }
  const gitlab = headers['x-gitlab-token'];
  if (typeof gitlab === 'string') return sameSecret(gitlab, secret) ? { ok: true, provider: 'gitlab' } : { ok: false, why: 'X-Gitlab-Token is wrong' };
  return { ok: false, why: 'no X-Hub-Signature-256 or X-Gitlab-Token header' };
}

/** Constant time whatever the lengths: compare digests, not the strings. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
