// The one list of notification channels (person-addressed: chat robots, SMS, voice, e-mail).
// A new channel is a folder beside these exporting its descriptor, plus one line here.
import type { NotifyChannel } from '../channel.ts';
import { aliyunSmsChannel } from './aliyun-sms/index.ts';
import { aliyunVoiceChannel } from './aliyun-voice/index.ts';
import { dingtalkChannel } from './dingtalk/index.ts';
import { emailChannel } from './email/index.ts';
import { feishuChannel } from './feishu/index.ts';
import { NotifyChannelRegistry } from './registry.ts';
import { tencentSmsChannel } from './tencent-sms/index.ts';
import { wecomChannel } from './wecom/index.ts';

export const NOTIFY_CHANNELS: readonly NotifyChannel[] = [
  wecomChannel,
  dingtalkChannel,
  feishuChannel,
  tencentSmsChannel,
  aliyunSmsChannel,
  aliyunVoiceChannel,
  emailChannel,
];

export const DEFAULT_NOTIFY_CHANNELS = new NotifyChannelRegistry(NOTIFY_CHANNELS);

export { NotifyChannelRegistry } from './registry.ts';
