// The console's entry: labels, the catalogue (the server's words and lifecycle table), then the app.
// Registers the service worker (offline shell) where the browser has one.
import { render } from 'preact';
import ui from '../labels/ui.json' with { type: 'json' };
import { App } from './App.tsx';
import { http } from './api.ts';
import { initI18n, setCatalogue, type LabelFile } from './i18n.ts';
import type { Lang } from './types.ts';

async function codes(): Promise<LabelFile | null> {
  // labels/codes.json (the server's codes) is copied next to the bundle; absent → English reasons.
  try {
    const res = await fetch('labels/codes.json');
    return res.ok ? ((await res.json()) as LabelFile) : null;
  } catch {
    return null;
  }
}

async function start(): Promise<void> {
  // zh-CN first: the console's staff work in Chinese; English only when someone chose it.
  const lang: Lang = window.localStorage.getItem('gw.lang') === 'en' ? 'en' : 'zh-CN';
  document.documentElement.lang = lang;
  const [catalogue, codeLabels] = await Promise.all([http.catalogue(), codes()]);
  initI18n(ui as LabelFile, codeLabels, lang);
  setCatalogue(catalogue);
  const root = document.getElementById('app');
  if (!root) return;
  root.replaceChildren(); // the boot text of index.html
  render(<App catalogue={catalogue} />, root);
}

if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => void navigator.serviceWorker.register('sw.js').catch(() => undefined));
}
void start();
