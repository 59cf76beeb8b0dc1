// A bounded request loop through the proxy, counting outcomes (never timing them).
import { Agent, request } from 'node:http';

export interface LoadCounts {
  ok: number;
  failed: number;
  byColor: Record<string, number>;
  errors: string[];
}

export function get(port: number, agent?: Agent, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: agent ?? false, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `connections` kept-alive loops of GET / until stop(); at most `limit` requests in all. */
export function startLoad(port: number, connections = 8, limit = 200_000) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const counts: LoadCounts = { ok: 0, failed: 0, byColor: {}, errors: [] };
  let stopped = false;
  const loop = async () => {
    while (!stopped && counts.ok + counts.failed < limit) {
      try {
        const r = await get(port, agent);
        if (r.status === 200) counts.ok++;
        else {
          counts.failed++;
          counts.errors.push(`HTTP ${r.status}: ${r.body.trim()}`);
        }
        const color = /\((blue|green)\)/.exec(r.body)?.[1] ?? 'other';
        counts.byColor[color] = (counts.byColor[color] ?? 0) + 1;
      } catch (e) {
        counts.failed++;
        counts.errors.push(String(e));
      }
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    counts,
    async stop(): Promise<LoadCounts> {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return counts;
    },
  };
}
