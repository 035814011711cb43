// The console app: login, then the logged-in console (board, detail, map, history, handover,
// overview, KPIs) over one live store. zh-CN unless the user switched (localStorage gw.lang).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, http, setUnauthorizedHandler } from './api.ts';
import { actorText, getLang, setLang, t } from './i18n.ts';
import { NO_FILTERS, type Filters } from './board-model.ts';
import { ActionDialog, type DialogTarget } from './ActionDialog.tsx';
import { Board } from './Board.tsx';
import { Detail } from './Detail.tsx';
import { FiltersBar } from './FiltersBar.tsx';
import { HandoverPage } from './Handover.tsx';
import { Header, TABS, type Tab } from './Header.tsx';
import { HistoryPage } from './History.tsx';
import { Login } from './Login.tsx';
import { MapPage } from './MapPage.tsx';
import { KpiPage, OverviewPage } from './Pages.tsx';
import { Shelved } from './Shelved.tsx';
import { ConsoleStore, useStore } from './store.ts';
import type { Catalogue, Jurisdiction, Lang, Unit, User } from './types.ts';

/** The header names the user's areas by their names (address book import), '*' as all areas. */
function areaNames(user: User, names: Map<string, Jurisdiction>): string {
  return user.jurisdictions
    .map((j) => {
      if (j === '*') return t('scope.all');
      const i = j.indexOf(':');
      return i > 0 ? (names.get(j)?.name ?? `${t(`tier.${j.slice(0, i)}`)} ${j.slice(i + 1)}`) : j;
    })
    .join('、');
}

/** Time since raised and time left tick every second without a server round trip. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

interface ConsoleProps {
  store: ConsoleStore;
  user: User;
  tab: Tab;
  lang: Lang;
  areas: Map<string, Jurisdiction>;
}

function Console({ store, user, tab, lang, areas }: ConsoleProps) {
  useStore(store);
  const now = useNow();
  const [detailId, setDetailId] = useState<number | null>(null);
  const [dialog, setDialog] = useState<DialogTarget | null>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [units, setUnits] = useState<Unit[]>([]);
  useEffect(() => void http.units().then((b) => setUnits(b.units), () => undefined), []);
  useEffect(() => setDetailId(null), [tab]);
  const grids = useMemo(() => [...areas.values()], [areas]);
  const ask = (id: number, action: string): void => setDialog({ id, action });
  const incidentOf = (id: number) => store.incidents.get(id) ?? store.shelved.get(id);
  const actorName = (actor: string, displayName?: string): string => actorText(actor, user, displayName);
  useEffect(() => void document.body.classList.toggle('detail-open', detailId !== null), [detailId]);
  return (
    <main>
      {store.connection !== 'online' ? <p id="offline-banner" role="alert">{t('offline.banner')}</p> : null}
      <section id="board" hidden={tab !== 'board'}>
        <FiltersBar catalogue={store.catalogue} grids={grids} value={filters} onChange={setFilters} />
        <Board store={store} filters={filters} now={now} ask={ask} open={setDetailId} />
        <Shelved store={store} ask={ask} open={setDetailId} />
      </section>
      {tab === 'map' ? <MapPage store={store} lang={lang} open={setDetailId} /> : null}
      {tab === 'history' ? <HistoryPage catalogue={store.catalogue} grids={grids} filters={filters} setFilters={setFilters} open={setDetailId} /> : null}
      {tab === 'handover' ? <HandoverPage open={setDetailId} actorName={actorName} /> : null}
      {tab === 'overview' ? <section id="overview"><OverviewPage now={now} /></section> : null}
      {tab === 'kpis' ? <section id="kpis"><KpiPage communityName={(c) => areas.get(`community:${c}`)?.name ?? c} /></section> : null}
      {detailId !== null ? <Detail key={detailId} id={detailId} live={incidentOf(detailId)} catalogue={store.catalogue} user={user} ask={ask} close={() => setDetailId(null)} unitName={(u) => units.find((x) => x.id === u)?.name ?? u} /> : null}
      <ActionDialog
        target={dialog}
        incident={dialog ? incidentOf(dialog.id) : undefined}
        units={units}
        areas={areas}
        onDone={(incident) => {
          setDialog(null);
          if (incident) store.apply(incident);
        }}
      />
    </main>
  );
}

export function App({ catalogue }: { catalogue: Catalogue }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [lang, setLangState] = useState<Lang>(getLang());
  const [tab, setTab] = useState<Tab>('board');
  const [areas, setAreas] = useState(new Map<string, Jurisdiction>());
  const store = useMemo(() => (user ? new ConsoleStore(catalogue) : null), [user?.username]);
  useStore(store);
  // No network at start (the offline shell): say so and try again when the network is back.
  const [unreachable, setUnreachable] = useState(false);
  useEffect(() => {
    setUnauthorizedHandler(() => setUser(null));
    const who = (): void =>
      void http.me().then(
        (b) => {
          setUnreachable(false);
          setUser(b.user);
          http.jurisdictions().then((j) => setAreas(new Map(j.jurisdictions.map((x) => [`${x.tier}:${x.code}`, x]))), () => undefined);
        },
        (err: unknown) => (err instanceof ApiError ? (setUnreachable(false), setUser(null)) : setUnreachable(true)),
      );
    who();
    http.jurisdictions().then((b) => setAreas(new Map(b.jurisdictions.map((j) => [`${j.tier}:${j.code}`, j]))), () => undefined);
    const retry = window.setInterval(() => unreachableRef.current && who(), 5000);
    window.addEventListener('online', who);
    return () => {
      window.clearInterval(retry);
      window.removeEventListener('online', who);
    };
  }, []);
  const unreachableRef = useRef(unreachable);
  unreachableRef.current = unreachable;
  useEffect(() => {
    if (!store) return;
    store.connect();
    return () => store.close();
  }, [store]);
  const toggleLang = (): void => {
    const next: Lang = lang === 'zh-CN' ? 'en' : 'zh-CN';
    window.localStorage.setItem('gw.lang', next);
    void setLang(next).then(() => {
      document.documentElement.lang = next;
      setLangState(next);
    });
  };
  const logout = (): void => void http.logout().catch(() => undefined).then(() => setUser(null));
  return (
    <>
      <Header user={user ?? null} areas={user ? areaNames(user, areas) : ''} tab={tab} tabs={TABS} lang={lang} connection={store?.connection ?? (unreachable ? 'offline' : 'reconnecting')} setTab={setTab} toggleLang={toggleLang} logout={logout} />
      {unreachable && !user ? (
        <main>
          <p id="offline-banner" role="alert">
            {t('offline.banner')}
          </p>
        </main>
      ) : null}
      {user === null && !unreachable ? (
        <main>
          <Login onLogin={setUser} />
        </main>
      ) : null}
      {user && store ? <Console store={store} user={user} tab={tab} lang={lang} areas={areas} /> : null}
    </>
  );
}
