// The login form. The submit is a user gesture: the moment browsers allow asking for notification
// permission and starting audio (the alarm tone).
import { useState } from 'preact/hooks';
import { http } from './api.ts';
import { askNotificationPermission, unlockAudio } from './alarm.ts';
import { t } from './i18n.ts';
import type { User } from './types.ts';

export function Login({ onLogin }: { onLogin: (user: User) => void }) {
  const [error, setError] = useState('');
  const submit = (e: Event): void => {
    e.preventDefault();
    setError('');
    askNotificationPermission();
    unlockAudio();
    const form = e.currentTarget as HTMLFormElement;
    const value = (name: string): string => (form.elements.namedItem(name) as HTMLInputElement).value;
    http.login(value('username'), value('password')).then(
      (body) => onLogin(body.user),
      () => setError(t('login.failed')),
    );
  };
  return (
    <form id="login" onSubmit={submit}>
      <h2>{t('login.title')}</h2>
      <label>
        <span>{t('login.username')}</span> <input id="username" name="username" autocomplete="username" required />
      </label>
      <label>
        <span>{t('login.password')}</span> <input id="password" name="password" type="password" autocomplete="current-password" required />
      </label>
      <button type="submit" id="login-submit">
        {t('login.submit')}
      </button>
      <p id="login-error" class="error">
        {error}
      </p>
    </form>
  );
}
