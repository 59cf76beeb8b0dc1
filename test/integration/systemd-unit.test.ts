// packaging/switchyard.service as systemd reads it: `systemd-analyze verify` (Debian's systemd) finds no
// problem in it, and does find one in a copy with a misspelt key, so a silent pass means something.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const verify = (file: string) => spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });

describe('the systemd unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify with nothing to say', () => {
    const r = verify('packaging/switchyard.service');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('is checked for real: a misspelt key and a missing program are reported', () => {
    const broken = join(dir, 'switchyard.service');
    writeFileSync(broken, readFileSync('packaging/switchyard.service', 'utf8').replace('KillMode=process', 'KilMode=process').replace('/usr/bin/node ', '/usr/bin/no-such-node '));
    const r = verify(broken);
    expect(r.stderr).toMatch(/Unknown key 'KilMode'/);
    expect(r.stderr).toMatch(/no-such-node/);
    expect(r.status).not.toBe(0);
  });
});
