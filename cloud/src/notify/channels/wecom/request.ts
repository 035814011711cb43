// 企业微信 / 政务微信 group robot ("群机器人"): POST {endpoint}/cgi-bin/webhook/send?key=KEY with
// {"msgtype":"markdown","markdown":{"content":…}} or {"msgtype":"text","text":{"content":…,
// "mentioned_mobile_list":[…]}}. The key in the URL is the only credential; no signature.
// 政务微信 deployments expose the same API on their own host, hence the configurable endpoint.
import type { NotifyContact, NotifyMessage } from '../../channel.ts';

export type WecomMsgType = 'markdown' | 'text';

export function wecomUrl(endpoint: string, key: string): string {
  const url = new URL('/cgi-bin/webhook/send', endpoint);
  url.searchParams.set('key', key);
  return url.toString();
}

export function wecomBody(message: NotifyMessage, contact: NotifyContact, msgtype: WecomMsgType): Record<string, unknown> {
  if (msgtype === 'markdown') return { msgtype, markdown: { content: message.markdown } };
  return { msgtype, text: { content: message.text, ...(contact.mention?.length ? { mentioned_mobile_list: contact.mention } : {}) } };
}
