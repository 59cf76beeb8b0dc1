// git's `gpg.ssh.allowedSignersFile` format (ssh-keygen(1), ALLOWED SIGNERS): one key a line,
// `principals [options] keytype base64-key [comment]`. The options kept: `namespaces` (the key may sign
// only in those; git signs in "git"), `valid-after` and `valid-before` (judged at the object's own time,
// as git does). `cert-authority` lines are skipped: certificate signatures are not checked here.

export interface AllowedSigner {
  principals: string;
  keyBlob: Buffer;
  namespaces?: string[];
  validAfter?: number;
  validBefore?: number;
  line: number;
}

export interface ParsedSigners {
  signers: AllowedSigner[];
  /** Lines that could not be read, as `file:line: why`: said in the verdict, never fatal to the others. */
  problems: string[];
}

export function parseAllowedSigners(text: string, file: string): ParsedSigners {
  const signers: AllowedSigner[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = tokens(line);
    const principals = fields.shift();
    // Options are one field unless it is already the key type.
    const options = fields[0] && !isKeyType(fields[0]) ? fields.shift()! : '';
    const [type, key] = fields;
    if (!principals || !type || !key || !isKeyType(type)) return void problems.push(`${file}:${i + 1}: expected "principals [options] keytype key"`);
    const parsed = parseOptions(options);
    if (parsed.has('cert-authority')) return void problems.push(`${file}:${i + 1}: cert-authority keys are not supported; list the key itself`);
    const signer: AllowedSigner = { principals: principals.replace(/"/g, ''), keyBlob: Buffer.from(key, 'base64'), line: i + 1 };
    const ns = parsed.get('namespaces');
    if (ns) signer.namespaces = ns.split(',');
    for (const [name, field] of [['valid-after', 'validAfter'], ['valid-before', 'validBefore']] as const) {
      const value = parsed.get(name);
      if (value === undefined) continue;
      const time = sshTime(value);
      if (time === undefined) return void problems.push(`${file}:${i + 1}: ${name}="${value}" is not YYYYMMDD[HHMM[SS]][Z]`);
      signer[field] = time;
    }
    signers.push(signer);
  });
  return { signers, problems };
}

/** Whether `signer` may sign in `namespace` at `when` (epoch ms). */
export function signerAllows(signer: AllowedSigner, namespace: string, when: number): string | undefined {
  if (signer.namespaces && !signer.namespaces.some((p) => glob(p, namespace))) return `its allowed-signers line ${signer.line} does not allow namespace "${namespace}"`;
  if (signer.validAfter !== undefined && when < signer.validAfter) return `its allowed-signers line ${signer.line} is valid only after ${new Date(signer.validAfter).toISOString()}`;
  if (signer.validBefore !== undefined && when >= signer.validBefore) return `its allowed-signers line ${signer.line} was valid only before ${new Date(signer.validBefore).toISOString()}`;
  return undefined;
}

function isKeyType(s: string): boolean {
  return /^(ssh-|ecdsa-sha2-|sk-)/.test(s);
}

/** Space-separated fields; double quotes keep spaces and commas inside one field. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && /\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

function parseOptions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) parts.push(cur);
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    out.set(name, eq < 0 ? '' : part.slice(eq + 1).replace(/^"|"$/g, ''));
  }
  return out;
}

/** ssh-keygen's time format; local time unless it ends with Z (read as UTC here, the agent's hosts run in UTC or say Z). */
function sshTime(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2}))?)?Z?$/i.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

function glob(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}
