// The header: title, who is logged in and their areas by name, the tabs, language, connection.
import { t } from './i18n.ts';
import type { Connection } from './store.ts';
import type { Lang, User } from './types.ts';

export const TABS = ['board', 'map', 'history', 'handover', 'overview', 'kpis'] as const;
export type Tab = (typeof TABS)[number];

interface Props {
  user: User | null;
  areas: string;
  tab: Tab;
  tabs: readonly Tab[];
  lang: Lang;
  connection: Connection;
  setTab: (tab: Tab) => void;
  toggleLang: () => void;
  logout: () => void;
}

export function Header({ user, areas, tab, tabs, lang, connection, setTab, toggleLang, logout }: Props) {
  return (
    <header>
      <h1>
        <span>{t('title')}</span> <small id="who">{user ? `${user.displayName || user.username}${areas ? ` · ${areas}` : ''}` : ''}</small>
      </h1>
      {user ? (
        <nav id="tabs">
          {tabs.map((k) => (
            <button key={k} type="button" data-tab={k} class={tab === k ? 'active' : ''} aria-current={tab === k ? 'page' : undefined} onClick={() => setTab(k)}>
              {t(`tab.${k}`)}
            </button>
          ))}
        </nav>
      ) : null}
      <div class="right">
        <button type="button" id="lang" title="Language / 语言" onClick={toggleLang}>
          {lang === 'zh-CN' ? 'EN' : '中文'}
        </button>
        {user || connection === 'offline' ? (
          <span id="connection" class={connection} role="status">
            {t(`conn.${connection}`)}
          </span>
        ) : null}
        {user ? (
          <button type="button" id="logout" onClick={logout}>
            {t('logout')}
          </button>
        ) : null}
      </div>
    </header>
  );
}
