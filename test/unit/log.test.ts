import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';

describe('logs', () => {
  it('never print env values, tokens or secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const real = createLogger({ pretty: false, level: 'info', destination: sink });
    real.info({ spec: { env: { DB_PASSWORD: 'hunter2' } }, apiToken: 'tok-123', config: { webhookSecret: 's3' }, req: { headers: { authorization: 'Bearer abc' } } }, 'x');
    const out = lines.join('');
    for (const secret of ['hunter2', 'tok-123', 's3', 'Bearer abc']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});
