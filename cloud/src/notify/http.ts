// One JSON POST for the robot channels, bounded by the attempt timeout. Vendors answer HTTP 200
// with an error code in the body, so the caller reads the body; a non-2xx is retryable.
import type { NotifyContext } from './channel.ts';

export interface JsonReply {
  status: number;
  body: Record<string, unknown> | null;
}

export async function postJson(url: string, payload: unknown, context: NotifyContext): Promise<JsonReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(context.timeoutMs),
  });
  const text = await res.text();
  let body: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

/** errcode-style replies (企业微信, 钉钉): 0 is accepted; the listed codes are worth a retry. */
export function errcodeOutcome(reply: JsonReply, codeField: string, messageField: string, retryableCodes: readonly number[]): { ok: boolean; retryable: boolean; detail: string } {
  if (reply.status < 200 || reply.status >= 300) return { ok: false, retryable: true, detail: `HTTP ${reply.status}` };
  const code = reply.body?.[codeField];
  const message = String(reply.body?.[messageField] ?? '');
  if (code === 0) return { ok: true, retryable: false, detail: `${codeField} 0` };
  if (typeof code !== 'number') return { ok: false, retryable: true, detail: `HTTP ${reply.status} without ${codeField}` };
  return { ok: false, retryable: retryableCodes.includes(code), detail: `${codeField} ${code}: ${message}` };
}
