// A local stand-in for Alibaba Cloud's RPC APIs that verifies the V3 request signature
// (ACS3-HMAC-SHA256) as Alibaba Cloud documents it: canonical request = method, URI, sorted
// RFC 3986-encoded query, sorted lower-case `host`/`content-type`/`x-acs-*` headers, signed header
// list, hex SHA-256 of the body; string to sign = "ACS3-HMAC-SHA256\n" + hex SHA-256 of it;
// signature = hex HMAC-SHA256(AccessKeySecret). Recomputed with WebCrypto, independent of the SDK.
import type { VendorRequest } from './notify-support.ts';

const enc = new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', enc.encode(text))).toString('hex');
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return Buffer.from(await crypto.subtle.sign('HMAC', key, enc.encode(message))).toString('hex');
}

/** RFC 3986 percent-encoding: unreserved A-Z a-z 0-9 - _ . ~ stay, everything else is %XX. */
function rfc3986(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [rfc3986(k), rfc3986(v)] as const);
  return pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
}

export interface AcsCheck {
  accessKeyId: string;
  accessKeySecret: string;
  action: string;
  version: string;
}

/** null when the request is signed correctly, else what is wrong (the server's error message). */
export async function verifyAcs3(req: VendorRequest, check: AcsCheck, now = Date.now()): Promise<string | null> {
  const auth = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([a-z0-9;-]+),Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization));
  if (!auth) return 'malformed Authorization';
  const [, id, signedHeaders = '', signature] = auth;
  if (id !== check.accessKeyId) return 'InvalidAccessKeyId.NotFound';
  if (req.headers['x-acs-action'] !== check.action || req.headers['x-acs-version'] !== check.version) return 'action or version';
  const date = Date.parse(String(req.headers['x-acs-date']));
  if (!/Z$/.test(String(req.headers['x-acs-date'])) || !(Math.abs(now - date) < 15 * 60_000)) return 'x-acs-date missing or off by more than 15 minutes';
  if (!req.headers['x-acs-signature-nonce']) return 'x-acs-signature-nonce missing';
  const bodyHash = await sha256Hex(req.body);
  if (req.headers['x-acs-content-sha256'] !== bodyHash) return 'x-acs-content-sha256 does not match the body';
  const names = signedHeaders.split(';');
  const mustSign = Object.keys(req.headers).filter((h) => h.startsWith('x-acs-') || h === 'host');
  if (mustSign.some((h) => !names.includes(h))) return 'every x-acs-* header and host must be signed';
  if ([...names].sort().join(';') !== signedHeaders) return 'SignedHeaders not sorted';
  const headers = names.map((n) => `${n}:${String(req.headers[n] ?? '').trim()}\n`).join('');
  const canonical = [req.method, req.url.pathname, canonicalQuery(req.url), headers, signedHeaders, bodyHash].join('\n');
  const expected = await hmacHex(check.accessKeySecret, `ACS3-HMAC-SHA256\n${await sha256Hex(canonical)}`);
  return expected === signature ? null : 'SignatureDoesNotMatch';
}

export function acsError(problem: string): { status: number; json: unknown } {
  const code = problem === 'SignatureDoesNotMatch' || problem.startsWith('InvalidAccessKeyId') ? problem : 'IncompleteSignature';
  return { status: 400, json: { RequestId: 'req-err', HostId: 'dysmsapi.aliyuncs.com', Code: code, Message: `Specified signature is not matched with our calculation (${problem}).` } };
}
