// Alibaba Cloud voice service (语音服务) SingleCallByTts (API 2017-05-25, RPC style): calls one
// number and reads the approved text-to-speech template (TtsCode) with its variables (TtsParam
// JSON). There is no npm SDK for this product; the call goes through the vendor's generic OpenAPI
// client (@alicloud/openapi-core), which signs it like every SDK (ACS3-HMAC-SHA256).
import type { NotifyContact, NotifyMessage } from '../../channel.ts';

export interface VoiceTemplate {
  calledShowNumber: string;
  ttsCode: string;
  ttsParams: Record<string, string>;
  playTimes: number;
}

export function singleCallByTtsQuery(message: NotifyMessage, contact: NotifyContact, template: VoiceTemplate): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [variable, param] of Object.entries(template.ttsParams)) {
    const value = message.params[param];
    if (value === undefined) throw new Error(`TTS variable ${variable}: message param ${param} is not provided`);
    values[variable] = value;
  }
  return {
    CalledShowNumber: template.calledShowNumber,
    CalledNumber: contact.to.replace(/^\+86/, ''),
    TtsCode: template.ttsCode,
    TtsParam: JSON.stringify(values),
    PlayTimes: String(template.playTimes),
    OutId: message.key.slice(0, 64),
  };
}
