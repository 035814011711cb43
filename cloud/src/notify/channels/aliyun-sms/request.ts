// Alibaba Cloud SMS SendSms (API 2017-05-25): one phone per call; TemplateParam is a JSON object
// of the approved template's named variables (${level}, ${place}, …); OutId echoes the key in the
// delivery receipt.
import type { NotifyContact, NotifyMessage } from '../../channel.ts';

export interface AliyunTemplate {
  signName: string;
  templateCode: string;
  /** Template variable → message param name (e.g. { "place": "place", "url": "link" }). */
  templateParams: Record<string, string>;
}

export interface AliyunSendSms {
  phoneNumbers: string;
  signName: string;
  templateCode: string;
  templateParam: string;
  outId: string;
}

export function aliyunSendSms(message: NotifyMessage, contact: NotifyContact, template: AliyunTemplate): AliyunSendSms {
  const values: Record<string, string> = {};
  for (const [variable, param] of Object.entries(template.templateParams)) {
    const value = message.params[param];
    if (value === undefined) throw new Error(`template variable ${variable}: message param ${param} is not provided`);
    values[variable] = value;
  }
  // Mainland numbers go without +86 here (the API takes 11 digits, or 00-prefixed international).
  return { phoneNumbers: contact.to.replace(/^\+86/, ''), signName: template.signName, templateCode: template.templateCode, templateParam: JSON.stringify(values), outId: message.key.slice(0, 64) };
}
