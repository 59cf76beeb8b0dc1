// Where an agent instance keeps its files in the state dir: one place for `run`, `plan` and the CLI's
// client, which read what the agent wrote. (The data plane's own files: proxyFiles, haproxyPaths.)
import { join } from 'node:path';

export function stateFiles(stateDir: string, instance: string) {
  const file = (name: string) => join(stateDir, `${instance}.${name}`);
  return {
    journal: file('journal.jsonl'),
    lastGood: file('last-good.json'),
    suspensions: file('suspended.json'),
    failedCommits: file('failed-commits.json'),
    hashKey: file('hash-key'),
    apiToken: file('api-token'),
    /** ACME: the account key and the certificates the agent ordered (owner-only). */
    acme: join(stateDir, 'acme', instance),
  };
}
