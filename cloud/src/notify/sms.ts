// What the SMS channels share: vendors send only pre-approved templates with positional
// variables, so a channel's config maps the message's named params onto the template's order.
import { Type } from '@sinclair/typebox';

export const TemplateParams = Type.Array(Type.String({ minLength: 1 }), {
  description: 'Message params (level, type, place, deadline, link, …) in the order of the approved template’s variables',
});

export function orderedParams(params: Record<string, string>, names: readonly string[]): string[] {
  return names.map((name) => {
    const value = params[name];
    if (value === undefined) throw new Error(`template parameter ${name} is not provided by the message`);
    return value;
  });
}

/** Mainland numbers are written E.164 (+86…), as both vendors expect. */
export function e164(phone: string): string {
  const digits = phone.replace(/[\s-]/g, '');
  if (digits.startsWith('+')) return digits;
  return /^1\d{10}$/.test(digits) ? `+86${digits}` : digits;
}
