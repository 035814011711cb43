// The live console: login, the board (REST list, then socket.io `incident` events applied by id),
// actions with a note, an incident's detail (audit timeline, readings, address, floor view) and
// the overview. The server decides what a user may see: the socket only carries their rooms.
'use strict';

(function () {
  const STRINGS = window.GW_I18N;
  const $ = (sel) => document.querySelector(sel);
  const state = {
    lang: window.localStorage.getItem('gw.lang') || (/^zh/i.test(navigator.language || '') ? 'zh-CN' : 'en'),
    user: null,
    incidents: new Map(),
    socket: null,
    tab: 'board',
    detailId: null,
    units: null,
  };
  const OPEN = new Set(['raised', 'dispatched', 'acknowledged', 'on_site']);
  const ACTIONS_FROM = {
    acknowledge: ['raised', 'dispatched'],
    dispatch: ['raised'],
    on_site: ['dispatched', 'acknowledged'],
    resolve: ['acknowledged', 'on_site'],
    false_alarm: ['raised', 'dispatched', 'acknowledged', 'on_site'],
  };

  function t(key, vars) {
    const table = STRINGS[state.lang] || STRINGS.en;
    let text = table[key] !== undefined ? table[key] : (STRINGS.en[key] !== undefined ? STRINGS.en[key] : key);
    for (const [k, v] of Object.entries(vars || {})) text = text.replace('{' + k + '}', String(v));
    return text;
  }
  const typeName = (type) => (STRINGS[state.lang]['type.' + type] ? t('type.' + type) : type);

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $('#lang').textContent = state.lang === 'zh-CN' ? 'EN' : '中文';
    renderBoard();
    if (state.tab === 'overview') loadOverview();
    if (state.detailId !== null) openDetail(state.detailId);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else if (k === 'onclick') node.addEventListener('click', v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof window.Node ? c : String(c));
    return node;
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return t('ago.s', { n: s });
    if (s < 3600) return t('ago.m', { n: Math.floor(s / 60) });
    if (s < 86400) return t('ago.h', { n: Math.floor(s / 3600) });
    return t('ago.d', { n: Math.floor(s / 86400) });
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    if (res.status === 401 && path !== '/api/v1/auth/login') { showLogin(); throw new Error('401'); }
    const text = await res.text();
    const json = text && (res.headers.get('content-type') || '').includes('json') ? JSON.parse(text) : null;
    if (!res.ok) throw new Error((json && json.error) || res.status + '');
    return json;
  }

  // Board order: open incidents first, most urgent level, newest first; then the rest newest first.
  function compare(a, b) {
    const ao = OPEN.has(a.status) ? 0 : 1;
    const bo = OPEN.has(b.status) ? 0 : 1;
    if (ao !== bo) return ao - bo;
    if (ao === 0 && a.level !== b.level) return a.level - b.level;
    return b.raisedAt - a.raisedAt || b.id - a.id;
  }

  function place(i) {
    const parts = [];
    if (i.community) parts.push(t('tier.community') + ' ' + i.community);
    if (i.grid) parts.push(t('tier.grid') + ' ' + i.grid);
    if (i.addressId) parts.push(i.addressId);
    return parts.join(' · ') || '—';
  }

  function deadlineText(i) {
    const pending = (i.deadlines || []).filter((d) => d.firedAt === null && d.cancelledAt === null);
    if (!OPEN.has(i.status) || pending.length === 0) return { text: '—', cls: '' };
    const d = pending.sort((x, y) => x.dueAt - y.dueAt)[0];
    const left = d.dueAt - Date.now();
    if (left < 0) return { text: t('overdue', { t: duration(-left) }), cls: 'overdue' };
    return { text: t('left', { kind: t('deadline.' + d.kind), t: duration(left) }), cls: left < 60000 ? 'soon' : '' };
  }

  function row(i) {
    const dl = deadlineText(i);
    const actions = el('td', { class: 'actions' });
    if (i.kind !== 'flood') {
      for (const [action, from] of Object.entries(ACTIONS_FROM)) {
        if (from.includes(i.status)) {
          actions.append(el('button', { type: 'button', 'data-action': action, class: 'act act-' + action, onclick: (e) => { e.stopPropagation(); askAction(i.id, action); } }, t('action.' + action)));
        }
      }
    }
    const tr = el('tr', { 'data-id': String(i.id), 'data-status': i.status, class: 'row level-row-' + i.level + (OPEN.has(i.status) ? '' : ' closed'), onclick: () => openDetail(i.id) },
      el('td', {}, el('span', { class: 'badge level-' + i.level }, t('level', { n: i.level }))),
      el('td', {}, typeName(i.alarmType), i.deviceCount > 1 ? ' ×' + i.deviceCount : ''),
      el('td', {}, place(i)),
      el('td', { class: 'status status-' + i.status }, t('status.' + i.status)),
      el('td', { class: 'since', 'data-t': String(i.raisedAt) }, duration(Date.now() - i.raisedAt)),
      el('td', { class: 'deadline ' + dl.cls }, dl.text),
      actions,
    );
    if (i._shownAt) tr.dataset.shownAt = String(i._shownAt);
    return tr;
  }

  function renderBoard() {
    const tbody = $('#incidents tbody');
    const list = [...state.incidents.values()].sort(compare);
    tbody.replaceChildren(...list.map(row));
    $('#empty').hidden = list.length > 0;
  }

  function beep() {
    try {
      const ctx = beep.ctx || (beep.ctx = new (window.AudioContext || window.webkitAudioContext)());
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch { /* no audio device: the row still flashes */ }
  }

  function notify(i) {
    if (!('Notification' in window) || window.Notification.permission !== 'granted') return;
    try { new window.Notification(t('notify.title', { level: i.level, type: typeName(i.alarmType) }), { body: place(i), tag: 'incident-' + i.id }); } catch { /* some browsers need a service worker */ }
  }

  function onIncident(incident) {
    const previous = state.incidents.get(incident.id);
    const merged = Object.assign({}, incident, { deadlines: previous ? previous.deadlines : [], _shownAt: previous ? previous._shownAt : Date.now() });
    state.incidents.set(incident.id, merged);
    renderBoard();
    const tr = document.querySelector('tr[data-id="' + incident.id + '"]');
    if (tr) tr.classList.add('flash');
    if (!previous && OPEN.has(incident.status) && incident.level <= 2) { beep(); notify(incident); }
    // Deadlines change with the status: refresh them for this incident only.
    if (!previous || previous.status !== incident.status) {
      api('GET', '/api/v1/incidents/' + incident.id + '/context').then((ctx) => {
        const current = state.incidents.get(incident.id);
        if (current) { current.deadlines = ctx.deadlines; renderBoard(); }
      }).catch(() => undefined);
    }
    if (state.detailId === incident.id) openDetail(incident.id);
  }

  function askAction(id, action) {
    const dialog = $('#action-dialog');
    $('#action-title').textContent = t('action.' + action) + ' #' + id;
    $('#action-note').value = '';
    $('#action-error').textContent = '';
    $('#unit-label').hidden = action !== 'dispatch';
    if (action === 'dispatch') {
      const select = $('#action-unit');
      (state.units ? Promise.resolve(state.units) : api('GET', '/api/v1/units').then((b) => (state.units = b.units))).then((units) => {
        select.replaceChildren(...units.map((u) => el('option', { value: u.id }, u.name + ' (' + t('tier.' + u.tier) + ' ' + u.area + ')')));
      });
    }
    dialog.dataset.id = String(id);
    dialog.dataset.action = action;
    dialog.showModal();
    $('#action-note').focus();
  }

  $('#action-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const dialog = $('#action-dialog');
    const body = { action: dialog.dataset.action, note: $('#action-note').value };
    if (body.action === 'dispatch') body.unitId = $('#action-unit').value;
    api('POST', '/api/v1/incidents/' + dialog.dataset.id + '/actions', body).then((incident) => {
      dialog.close();
      onIncident(incident);
    }, (err) => { $('#action-error').textContent = err.message; });
  });
  $('#action-cancel').addEventListener('click', () => $('#action-dialog').close());

  function floorView(address) {
    // A schematic of the building: one band per floor up to the alarm's floor + 2, the room marked.
    const floor = parseInt(address.floor, 10);
    const floors = Number.isFinite(floor) ? Math.max(floor + 2, 3) : 3;
    const h = 26;
    const svgNs = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(svgNs, 'svg');
    svg.setAttribute('viewBox', '0 0 260 ' + (floors * h + 30));
    svg.setAttribute('class', 'floor');
    const add = (name, attrs, text) => {
      const n = document.createElementNS(svgNs, name);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      if (text !== undefined) n.textContent = text;
      svg.append(n);
    };
    for (let f = 1; f <= floors; f++) {
      const y = (floors - f) * h + 20;
      const hit = f === floor;
      add('rect', { x: 40, y, width: 200, height: h - 2, class: hit ? 'hit-floor' : 'storey' });
      add('text', { x: 8, y: y + 17, class: 'label' }, f + (state.lang === 'zh-CN' ? '层' : 'F'));
      if (hit) {
        add('rect', { x: 150, y: y + 3, width: 80, height: h - 8, class: 'hit-room' });
        add('text', { x: 156, y: y + 17, class: 'room-label' }, address.room || '?');
      }
    }
    add('text', { x: 40, y: 13, class: 'label' }, address.building + (address.unit ? ' · ' + t('addr.unit') + ' ' + address.unit : ''));
    return svg;
  }

  // The system's routing is a dispatch (分拨); a person's dispatch is an assignment (指派).
  function auditLabel(e) {
    const key = e.actor === 'system' || e.source === 'routing' ? 'audit.' + e.action : 'action.' + e.action;
    if (STRINGS[state.lang][key]) return t(key);
    return STRINGS[state.lang]['audit.' + e.action] ? t('audit.' + e.action) : e.action;
  }

  function readingsTable(rows) {
    if (!rows.length) return el('p', { class: 'muted' }, t('detail.none'));
    return el('table', { class: 'mini' }, ...rows.map((r) => el('tr', {}, el('td', {}, r[0]), el('td', {}, r[1]), el('td', {}, r[2] || ''))));
  }

  async function openDetail(id) {
    state.detailId = id;
    const [incident, audit, ctx] = await Promise.all([
      api('GET', '/api/v1/incidents/' + id),
      api('GET', '/api/v1/incidents/' + id + '/audit'),
      api('GET', '/api/v1/incidents/' + id + '/context'),
    ]);
    const body = $('#detail-body');
    const a = ctx.address;
    const eventRows = [];
    for (const ev of ctx.events) {
      // The edge sends the readings that decided the alarm as { point: value }.
      const values = ev.readings && typeof ev.readings === 'object' ? Object.entries(ev.readings).map(([k, v]) => k + '=' + v).join(', ') : '';
      eventRows.push([new Date(ev.edgeTime).toLocaleTimeString(state.lang), ev.action + (ev.test ? ' (test)' : ''), values || ev.reason]);
    }
    const latestRows = (ctx.latest || []).map((r) => [r.point, String(r.value), new Date(r.t).toLocaleTimeString(state.lang)]);
    body.replaceChildren(
      el('h2', {}, el('span', { class: 'badge level-' + incident.level }, t('level', { n: incident.level })), ' ', typeName(incident.alarmType), ' #' + incident.id),
      el('p', { class: 'status status-' + incident.status }, t('status.' + incident.status)),
      el('dl', {},
        el('dt', {}, t('detail.device')), el('dd', {}, incident.gatewayId + ' / ' + incident.deviceId),
        el('dt', {}, t('detail.raised')), el('dd', {}, new Date(incident.raisedAt).toLocaleString(state.lang)),
        el('dt', {}, t('detail.unit')), el('dd', {}, incident.unitId ? incident.unitId + ' (' + t('tier.' + incident.tier) + ')' : '—'),
        el('dt', {}, t('detail.occurrences')), el('dd', {}, String(incident.occurrences)),
      ),
      el('h3', {}, t('detail.address')),
      a ? el('p', {}, [t('tier.district') + ' ' + a.district, t('tier.street') + ' ' + a.street, t('tier.community') + ' ' + a.community, t('tier.grid') + ' ' + a.grid].join(' › '),
        el('br'), a.addressId + ' · ' + t('addr.building') + ' ' + a.building + ' · ' + t('addr.floor') + ' ' + a.floor + ' · ' + t('addr.room') + ' ' + a.room) : el('p', { class: 'muted' }, incident.addressId || '—'),
      a ? el('h3', {}, t('detail.floor')) : null,
      a ? floorView(a) : null,
      el('h3', {}, t('detail.timeline')),
      el('ol', { class: 'timeline' }, ...audit.audit.map((e) => el('li', {},
        el('time', {}, new Date(e.at).toLocaleTimeString(state.lang)), ' ',
        el('b', {}, auditLabel(e)), ' ',
        e.toStatus ? '→ ' + t('status.' + e.toStatus) + ' ' : '',
        el('span', { class: 'muted' }, (e.actor === 'system' ? t('system') : e.actor)),
        e.note ? el('div', { class: 'note' }, e.note) : null,
      ))),
      el('h3', {}, t('detail.readings')),
      readingsTable(eventRows),
      el('h3', {}, t('detail.latest')),
      readingsTable(latestRows),
    );
    $('#detail').hidden = false;
  }
  $('#detail-close').addEventListener('click', () => { state.detailId = null; $('#detail').hidden = true; });

  function percent(x) { return x === null || x === undefined ? '—' : (x * 100).toFixed(1) + ' %'; }

  async function loadOverview() {
    const o = await api('GET', '/api/v1/overview');
    const kv = (obj, label) => el('table', { class: 'mini' }, ...Object.entries(obj).map(([k, v]) => el('tr', {}, el('td', {}, label(k)), el('td', {}, String(v)))));
    const ack = o.level1AckWithin5Min;
    $('#overview').replaceChildren(
      el('p', { class: 'muted' }, t('ov.period')),
      el('div', { class: 'cards' },
        el('div', { class: 'card' }, el('h3', {}, t('ov.onTime')), el('p', { class: 'big' }, percent(o.onTimeRate))),
        el('div', { class: 'card' + (ack !== null && ack < o.level1AckTarget ? ' below' : '') }, el('h3', {}, t('ov.ack5')), el('p', { class: 'big' }, percent(ack)), el('p', { class: 'muted' }, t('ov.target', { p: percent(o.level1AckTarget) }))),
        el('div', { class: 'card' }, el('h3', {}, t('ov.byLevel')), kv(o.byLevel, (k) => t('level', { n: k }))),
        el('div', { class: 'card' }, el('h3', {}, t('ov.byStatus')), kv(o.byStatus, (k) => t('status.' + k))),
        el('div', { class: 'card' }, el('h3', {}, t('ov.falseAlarms')), readingsTable(o.falseAlarmsByDevice.map((f) => [f.gatewayId + ' / ' + f.deviceId, String(f.count)]))),
        el('div', { class: 'card' }, el('h3', {}, t('ov.offlineGw')), readingsTable(o.offlineGateways.map((g) => [g.gatewayId, g.site, g.lastSeenAt ? duration(Date.now() - g.lastSeenAt) : '—']))),
        el('div', { class: 'card' }, el('h3', {}, t('ov.offlineDev')), readingsTable(o.offlineDevices.map((d) => [d.gatewayId + ' / ' + d.deviceId, duration(Date.now() - d.since)]))),
      ),
    );
  }

  function showTab(tab) {
    state.tab = tab;
    state.detailId = null;
    $('#detail').hidden = true;
    document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('active', b.dataset.tab === tab));
    $('#board').hidden = tab !== 'board';
    $('#overview').hidden = tab !== 'overview';
    if (tab === 'overview') loadOverview().catch(() => undefined);
  }
  document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));

  function showLogin() {
    state.user = null;
    if (state.socket) { state.socket.close(); state.socket = null; }
    $('#login').hidden = false;
    $('#board').hidden = true;
    $('#overview').hidden = true;
    $('#tabs').hidden = true;
    $('#logout').hidden = true;
    $('#detail').hidden = true;
    $('#who').textContent = '';
  }

  async function start(user) {
    state.user = user;
    $('#who').textContent = (user.displayName || user.username) + ' · ' + user.jurisdictions.map((j) => {
      const i = j.indexOf(':');
      return i > 0 ? t('tier.' + j.slice(0, i)) + ' ' + j.slice(i + 1) : j;
    }).join(', ');
    $('#login').hidden = true;
    $('#tabs').hidden = false;
    $('#logout').hidden = false;
    showTab('board');
    const body = await api('GET', '/api/v1/incidents?limit=200&deadlines=pending');
    state.incidents.clear();
    for (const i of body.incidents) state.incidents.set(i.id, i);
    renderBoard();
    // The session cookie goes with the handshake: the server puts this socket in the user's rooms.
    const socket = io({ transports: ['websocket'] });
    state.socket = socket;
    socket.on('connect', () => { $('#connection').textContent = t('conn.online'); $('#connection').dataset.i18n = 'conn.online'; $('#connection').className = 'online'; });
    socket.on('disconnect', () => { $('#connection').textContent = t('conn.offline'); $('#connection').dataset.i18n = 'conn.offline'; $('#connection').className = 'offline'; });
    socket.on('incident', onIncident);
  }

  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    $('#login-error').textContent = '';
    // A user gesture: the moment browsers allow asking for notifications and starting audio.
    if ('Notification' in window && window.Notification.permission === 'default') window.Notification.requestPermission().catch(() => undefined);
    api('POST', '/api/v1/auth/login', { username: $('#username').value, password: $('#password').value })
      .then((body) => start(body.user), () => { $('#login-error').textContent = t('login.failed'); });
  });
  $('#logout').addEventListener('click', () => { api('POST', '/api/v1/auth/logout').catch(() => undefined).then(showLogin); });
  $('#lang').addEventListener('click', () => {
    state.lang = state.lang === 'zh-CN' ? 'en' : 'zh-CN';
    window.localStorage.setItem('gw.lang', state.lang);
    applyLanguage();
  });

  // Time since raised and time left tick every second without a server round trip.
  setInterval(() => { if (state.user && state.tab === 'board') renderBoard(); }, 1000);

  applyLanguage();
  fetch('/api/v1/auth/me', { credentials: 'same-origin' }).then((res) => (res.ok ? res.json() : null)).then((body) => {
    if (body) start(body.user); else showLogin();
  }, showLogin);
})();
