// Level 1–2 alarms while the app is open (issue #13): a WebAudio tone, a vibration on phones and a
// system notification. No Web Push: Google's push service is unreachable on most phones in
// mainland China; reaching staff outside the open app is the notification channels' job.
import { typeName, t } from './i18n.ts';
import { placeText } from './board-model.ts';
import type { Incident } from './types.ts';

type AudioCtor = typeof AudioContext;
let ctx: AudioContext | null = null;

/** Creates (or resumes) the audio context: call from a user gesture (login) so browsers allow it. */
export function unlockAudio(): void {
  try {
    const Ctor = (window.AudioContext ?? (window as unknown as { webkitAudioContext?: AudioCtor }).webkitAudioContext) as AudioCtor | undefined;
    if (!Ctor) return;
    ctx ??= new Ctor();
    if (ctx.state === 'suspended') void ctx.resume();
  } catch {
    // No audio device: the row still flashes and the notification still shows.
  }
}

/** Two 880/660 Hz beeps: heard over street noise, unlike a single short one. */
export function tone(): void {
  unlockAudio();
  if (!ctx) return;
  const start = ctx.currentTime;
  for (const [k, freq] of [880, 660, 880].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + k * 0.25);
    osc.stop(start + k * 0.25 + 0.2);
  }
}

export function askNotificationPermission(): void {
  if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
}

function notify(i: Incident): void {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  const title = t('notify.title', { level: i.level, type: typeName(i.alarmType) });
  const options = { body: placeText(i), tag: `incident-${i.id}`, requireInteraction: i.level === 1 };
  try {
    new Notification(title, options);
  } catch {
    // Android Chrome allows notifications only through the service worker.
    void navigator.serviceWorker?.ready.then((reg) => reg.showNotification(title, options)).catch(() => undefined);
  }
}

/** A new level 1–2 incident: ring, vibrate, notify. */
export function alarm(i: Incident): void {
  if (i.level > 2) return;
  tone();
  try {
    navigator.vibrate?.([400, 150, 400]);
  } catch {
    // Not a phone.
  }
  notify(i);
}
