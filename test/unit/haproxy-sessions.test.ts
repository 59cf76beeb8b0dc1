import { describe, expect, it } from 'vitest';
import { parseTunnels } from '../../src/adapters/haproxy/runtime-api.js';

// `show sess all` of HAProxy 2.6, trimmed: a WebSocket tunnel, a plain request, and the CLI's own session.
const SHOW_SESS_ALL = `0x563cc812a3c0: [30/Nov/2026:22:43:05.168533] id=7 proto=tcpv4 source=127.0.0.1:39366
  flags=0xc4a, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn=0x563cc80697f0, pend_pos=(nil) waiting=0 epoch=0
  frontend=fe_web (id=2 mode=http), listener=? (id=1) addr=127.0.0.1:24990
  backend=be_web_blue (id=3 mode=http) addr=127.0.0.1:48846
  server=s1 (id=1) addr=127.0.0.1:24991
  txn=0x563cc82444d0 flags=0x8000 meth=1 status=101 req.st=MSG_TUNNEL rsp.st=MSG_TUNNEL req.f=0xcc rsp.f=0xcc
0x563cc812b000: [30/Nov/2026:22:43:05.200000] id=8 proto=tcpv4 source=127.0.0.1:39370
  frontend=fe_web (id=2 mode=http), listener=? (id=1) addr=127.0.0.1:24990
  backend=be_web_blue (id=3 mode=http) addr=127.0.0.1:48850
  txn=0x563cc82444f0 flags=0x8000 meth=1 status=-1 req.st=MSG_DONE rsp.st=MSG_RPBEFORE req.f=0xcc rsp.f=0xcc
0x7f0650041fd0: [30/Nov/2026:22:43:05.977234] id=9 proto=unix_stream source=unix:1
  frontend=GLOBAL (id=0 mode=tcp), listener=? (id=1) addr=unix:1
  backend=<NONE> (id=-1 mode=-)
`;

describe('HAProxy sessions', () => {
  it('finds the sessions in tunnel mode, with their address, unique id and backend', () => {
    expect(parseTunnels(SHOW_SESS_ALL)).toEqual([{ ptr: '0x563cc812a3c0', id: '7', backend: 'be_web_blue' }]);
  });

  it('finds none in an empty or failed answer', () => {
    expect(parseTunnels('')).toEqual([]);
    expect(parseTunnels('Unknown command.\n')).toEqual([]);
  });
});
