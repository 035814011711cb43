// Tencent Cloud SMS SendSms (API 2021-01-11) request: one phone per call so each recipient gets
// its own outcome. The SDK signs it with TC3-HMAC-SHA256.
import type { NotifyContact, NotifyMessage } from '../../channel.ts';
import { e164, orderedParams } from '../../sms.ts';

export interface TencentTemplate {
  sdkAppId: string;
  signName: string;
  templateId: string;
  templateParams: string[];
}

export interface SendSmsParams {
  PhoneNumberSet: string[];
  SmsSdkAppId: string;
  SignName: string;
  TemplateId: string;
  TemplateParamSet: string[];
  SessionContext: string;
}

export function sendSmsParams(message: NotifyMessage, contact: NotifyContact, template: TencentTemplate): SendSmsParams {
  return {
    PhoneNumberSet: [e164(contact.to)],
    SmsSdkAppId: template.sdkAppId,
    SignName: template.signName,
    TemplateId: template.templateId,
    TemplateParamSet: orderedParams(message.params, template.templateParams),
    // Echoed back in the delivery receipt: ties the receipt to the notification.
    SessionContext: message.key,
  };
}
