import { describe, expect, it } from 'vitest';
import { setActive } from '../../src/desired/set-active.js';

const original = `# yaml-language-server: $schema=../schemas/app.schema.json
# Owned by the web team.   Keep   this   spacing.
name: web      # the app
listen: 8080
colors: {blue: {image: "web:1", replicas: 2},   green: {image: 'web:2'}}

active:   'blue'    # flip me
health:
  path: /healthz
`;

describe('setActive', () => {
  it('changes only the value of active, keeping quotes, spacing and comments byte for byte', () => {
    const r = setActive(original, 'green');
    expect(r).toMatchObject({ ok: true, from: 'blue', line: 7 });
    if (!r.ok) return;
    expect(r.text).toBe(original.replace("active:   'blue'", "active:   'green'"));
    const changed = r.text.split('\n').filter((l, i) => l !== original.split('\n')[i]);
    expect(changed).toEqual(["active:   'green'    # flip me"]);
  });

  it('works on plain and double-quoted values', () => {
    expect(setActive('active: green\n', 'blue')).toMatchObject({ ok: true, text: 'active: blue\n' });
    expect(setActive('name: x\nactive: "green" # c\n', 'blue')).toMatchObject({ ok: true, text: 'name: x\nactive: "blue" # c\n' });
  });

  it('says why when it cannot', () => {
    expect(setActive('name: x\n', 'blue')).toEqual({ ok: false, reason: 'the file has no `active:` value' });
    expect(setActive('active: [\n', 'blue')).toMatchObject({ ok: false, reason: expect.stringMatching(/does not parse/) });
    expect(setActive('active: red\n', 'blue')).toEqual({ ok: false, reason: 'active is "red", not blue or green' });
  });
});
