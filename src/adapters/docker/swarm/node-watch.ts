// The agent's own check that a swarm node is still there. The manager declares a node down only after
// its heartbeats stop for a while (seconds: the dispatcher's heartbeat period, 5 s by default, times a
// few), and until then it calls that node's tasks running. Every node listens on Swarm's gossip port: a
// connection refused there means its engine is gone, two timeouts in a row that the node is. Its tasks
// then leave the route at once (tasks.ts reads such a node as not ready), long before the manager agrees.
import { connect } from 'node:net';

/** Swarm's node-to-node gossip port (TCP and UDP), open on every node. */
export const GOSSIP_PORT = 7946;
const CONNECT_TIMEOUT_MS = 500;
const TIMEOUTS_TO_LOSE = 2;

export type Reach = 'open' | 'refused' | 'timeout';

export function reach(host: string, port: number, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Reach> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (r: Reach) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => done('open'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : 'timeout'));
  });
}

export class NodeWatch {
  /** Per node address: consecutive misses (a refusal counts as all of them). */
  private readonly misses = new Map<string, number>();

  constructor(private readonly probe: (host: string) => Promise<Reach> = (host) => reach(host, GOSSIP_PORT)) {}

  /** Probes each address once (in parallel); forgets addresses no longer given. */
  async check(addrs: readonly string[]): Promise<void> {
    const results = await Promise.all(addrs.map(async (a) => [a, await this.probe(a)] as const));
    for (const a of [...this.misses.keys()]) if (!addrs.includes(a)) this.misses.delete(a);
    for (const [a, r] of results) this.misses.set(a, r === 'open' ? 0 : r === 'refused' ? TIMEOUTS_TO_LOSE : (this.misses.get(a) ?? 0) + 1);
  }

  lost(addr: string | undefined): boolean {
    return addr !== undefined && (this.misses.get(addr) ?? 0) >= TIMEOUTS_TO_LOSE;
  }
}
