// What a TLS ClientHello asks for, read from its first record before any TLS library sees it: the server
// name (SNI) and the ALPN protocols. The TLS port needs both at once to answer an ACME TLS-ALPN-01
// challenge (RFC 8737: a special certificate, only to a client that offers `acme-tls/1`) without
// touching ordinary clients of the same name; node's TLS server offers the name alone when it picks a
// certificate. Pure; anything that is not a well-formed ClientHello reads as nothing asked.

export interface ClientHello {
  serverName?: string;
  alpn: string[];
}

/** Bytes needed before the first record is whole (0: it is; undefined: not a TLS handshake record). */
export function recordBytesMissing(buf: Buffer): number | undefined {
  if (buf.length < 5) return 5 - buf.length;
  if (buf[0] !== 0x16) return undefined;
  return Math.max(0, 5 + buf.readUInt16BE(3) - buf.length);
}

export function parseClientHello(buf: Buffer): ClientHello {
  const none: ClientHello = { alpn: [] };
  try {
    if (buf[0] !== 0x16 || buf[5] !== 0x01) return none;
    const end = Math.min(buf.length, 5 + buf.readUInt16BE(3));
    let p = 5 + 4 + 2 + 32; // record header, handshake header, version, random
    p += 1 + buf[p]!; // session id
    p += 2 + buf.readUInt16BE(p); // cipher suites
    p += 1 + buf[p]!; // compression methods
    if (p + 2 > end) return none;
    const extEnd = Math.min(end, p + 2 + buf.readUInt16BE(p));
    p += 2;
    const out: ClientHello = { alpn: [] };
    while (p + 4 <= extEnd) {
      const type = buf.readUInt16BE(p);
      const len = buf.readUInt16BE(p + 2);
      const body = buf.subarray(p + 4, Math.min(extEnd, p + 4 + len));
      if (type === 0x0000 && body.length > 5 && body[2] === 0) out.serverName = body.subarray(5, 5 + body.readUInt16BE(3)).toString('latin1').toLowerCase();
      if (type === 0x0010 && body.length > 2) {
        for (let q = 2; q < body.length; q += 1 + body[q]!) out.alpn.push(body.subarray(q + 1, q + 1 + body[q]!).toString('latin1'));
      }
      p += 4 + len;
    }
    return out;
  } catch {
    return none;
  }
}
