// Commit statuses on a loopback forge that implements exactly GitHub's and GitLab's documented status
// endpoints and checks their auth headers: what the agent posts for a commit that goes live, one that is
// refused, one whose flip fails; retries on a forge error, and giving up (counted) on a refusal.
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForgeReporter, type Forge } from '../../src/adapters/forge/commit-status.js';
import { silentLogger } from '../../src/core/log.js';
import { SwitchyardError } from '../../src/core/errors.js';
import { setup } from '../support/agent-world.js';
import { appYaml } from '../support/app-yaml.js';

const TOKEN = 'ghp_status_token_1';
const GL_TOKEN = 'glpat-status-token-2';

interface Post {
  forge: 'github' | 'gitlab';
  sha: string;
  body: Record<string, string>;
}

describe('commit statuses (GitHub and GitLab REST, on loopback)', () => {
  const posts: Post[] = [];
  let failNext = 0;
  let requests = 0;
  const read = (req: IncomingMessage) => new Promise<string>((r) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => r(b));
  });
  const server = createServer(async (req, res) => {
    requests++;
    const body = await read(req);
    const gh = /^\/repos\/org\/desired\/statuses\/([0-9a-z]+)$/.exec(req.url ?? '');
    const gl = /^\/api\/v4\/projects\/group%2Fdesired\/statuses\/([0-9a-z]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || (!gh && !gl)) return void res.writeHead(404).end('{"message":"Not Found"}');
    const authorized = gh ? req.headers.authorization === `Bearer ${TOKEN}` && req.headers['x-github-api-version'] === '2022-11-28' : req.headers['private-token'] === GL_TOKEN;
    if (!authorized) return void res.writeHead(401).end('{"message":"Bad credentials"}');
    if (failNext > 0) {
      failNext--;
      return void res.writeHead(502).end('bad gateway');
    }
    posts.push({ forge: gh ? 'github' : 'gitlab', sha: (gh ?? gl)![1]!, body: JSON.parse(body) as Record<string, string> });
    res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const forges = (token = TOKEN): Forge[] => [
    { kind: 'github', apiUrl: url, repo: 'org/desired', token: () => token },
    { kind: 'gitlab', url, project: 'group/desired', token: () => GL_TOKEN },
  ];

  it('posts pending then success for an app that goes live, failure for a refused commit and for a failed flip, in the forges\' own words', async () => {
    posts.length = 0;
    const reporters = forges().map((f) => new ForgeReporter(f, silentLogger, () => undefined, 5));
    const w = setup({ reporter: { report: (s) => reporters.forEach((r) => r.report(s)) } });
    w.source.commitFiles('c1', { 'apps/web.yaml': appYaml({ listen: 9000 }) });
    await w.agent.reconcile();
    w.source.commitFiles('c2', { 'apps/web.yaml': 'name: [' });
    await w.agent.reconcile();
    w.prober.healthy = () => false;
    w.source.commitFiles('c3', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green', greenImage: 'img:broken' }) });
    await w.agent.reconcile();
    // A flip the data plane refuses twice (transient: retried each pass) stays pending, posted once, then goes live.
    w.prober.healthy = () => true;
    w.source.commitFiles('c4', { 'apps/web.yaml': appYaml({ listen: 9000, active: 'green' }) });
    for (let i = 0; i < 3; i++) {
      if (i < 2) w.router.failNext = new SwitchyardError('RouteFailed', 'the control socket did not answer');
      await w.agent.reconcile();
    }
    await Promise.all(reporters.map((r) => r.idle()));
    const seen = (forge: string) => posts.filter((p) => p.forge === forge).map((p) => `${p.sha} ${p.body.context ?? p.body.name} ${p.body.state}`);
    expect(seen('github')).toEqual(['c1 switchyard/web pending', 'c1 switchyard/web success', 'c2 switchyard failure', 'c3 switchyard/web pending', 'c3 switchyard/web failure', 'c4 switchyard/web pending', 'c4 switchyard/web success']);
    expect(seen('gitlab')).toEqual(['c1 switchyard/web running', 'c1 switchyard/web success', 'c2 switchyard failed', 'c3 switchyard/web running', 'c3 switchyard/web failed', 'c4 switchyard/web running', 'c4 switchyard/web success']);
    const refused = posts.find((p) => p.sha === 'c2')!.body.description!;
    expect(refused).toMatch(/^ValidationFailed: apps\/web\.yaml:1:\d+/);
    expect(refused.length).toBeLessThanOrEqual(140);
    expect(posts.find((p) => p.sha === 'c3' && p.body.state === 'failure')!.body.description).toMatch(/^HealthCheckFailed: green is not healthy/);
  });

  it('tries again after a forge error, in order, and gives up (counted) on a refusal without retrying it', async () => {
    posts.length = 0;
    failNext = 2;
    let givenUp = 0;
    const [github] = forges();
    const ok = new ForgeReporter(github!, silentLogger, () => givenUp++, 5);
    ok.report({ commit: 'c9', context: 'switchyard/web', state: 'pending', description: 'flip to green' });
    ok.report({ commit: 'c9', context: 'switchyard/web', state: 'success', description: 'live' });
    await ok.idle();
    expect(posts.map((p) => p.body.state)).toEqual(['pending', 'success']);
    expect(givenUp).toBe(0);

    const before = requests;
    const refused = new ForgeReporter(forges('wrong-token')[0]!, silentLogger, () => givenUp++, 5);
    refused.report({ commit: 'c9', context: 'switchyard/web', state: 'success', description: 'live' });
    await refused.idle();
    expect(givenUp).toBe(1);
    expect(requests - before).toBe(1);
  });
});
