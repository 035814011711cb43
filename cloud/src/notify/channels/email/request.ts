// The e-mail a notification becomes: subject = title, plain-text body with the link, and a
// header carrying the notification key so a mailbox rule or a receiver can deduplicate retries.
import type { SendMailOptions } from 'nodemailer';
import type { NotifyContact, NotifyMessage } from '../../channel.ts';

export const KEY_HEADER = 'X-GridWatch-Notification';

export function emailMessage(message: NotifyMessage, contact: NotifyContact, from: string): SendMailOptions {
  return {
    from,
    to: contact.to,
    subject: message.title,
    text: message.text,
    // base64 keeps the Chinese text intact through any 7-bit relay (RFC 2045).
    textEncoding: 'base64',
    headers: { [KEY_HEADER]: message.key },
  };
}
