// E-mail against a real SMTP server on loopback (smtp-server): AUTH PLAIN/LOGIN with the right
// password, the envelope, the subject (RFC 2047 encoded-word) and the base64 body with the link.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { emailChannel } from '../src/notify/channels/email/index.ts';
import { context, sampleMessage } from './notify-support.ts';

interface Received {
  from: string;
  to: string[];
  raw: string;
}

const PASSWORD = 'smtp-pass-8c1f';
const received: Received[] = [];
let server: SMTPServer;
let port = 0;

before(async () => {
  process.env.GW_TEST_SMTP_PASSWORD = PASSWORD;
  process.env.GW_TEST_SMTP_WRONG = 'wrong';
  server = new SMTPServer({
    authOptional: false,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === 'gridwatch' && auth.password === PASSWORD) return callback(null, { user: 'gridwatch' });
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function decodeWords(header: string): string {
  return header.replace(/=\?UTF-8\?B\?([^?]+)\?=\s*/gi, (_m, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

test('email: the relay accepts the login and the message carries title, text, link and key', async () => {
  const sender = emailChannel.create({ host: '127.0.0.1', port, secure: false, from: 'GridWatch <alarm@gw.local>', user: 'gridwatch', password: { env: 'GW_TEST_SMTP_PASSWORD' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'email', to: 'li@gw.local' }, context);
  assert.equal(outcome.ok, true, outcome.detail);
  assert.match(outcome.receipt ?? '', /^<.+@.+>$/);
  const mail = received.at(-1);
  assert.ok(mail);
  assert.equal(mail.from, 'alarm@gw.local');
  assert.deepEqual(mail.to, ['li@gw.local']);
  const [head = '', body = ''] = mail.raw.split(/\r\n\r\n/);
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ').replace(/\r\n/g, '\n');
  assert.equal(decodeWords(/^Subject: (.*)$/m.exec(unfolded)?.[1] ?? ''), sampleMessage().title);
  assert.match(unfolded, /^X-GridWatch-Notification: inc-7\/step-0\/p-li\/wecom$/im);
  assert.match(unfolded, /^Content-Transfer-Encoding: base64$/m);
  assert.equal(Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8'), sampleMessage().text);
});

test('email: a wrong password is refused by the relay (535) and dead-lettered', async () => {
  const before = received.length;
  const sender = emailChannel.create({ host: '127.0.0.1', port, secure: false, from: 'alarm@gw.local', user: 'gridwatch', password: { env: 'GW_TEST_SMTP_WRONG' } });
  const outcome = await sender.send(sampleMessage(), { channel: 'email', to: 'li@gw.local' }, context);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.retryable, false);
  assert.match(outcome.detail, /535/);
  assert.equal(received.length, before);
});
