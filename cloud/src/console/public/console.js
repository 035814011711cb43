// The live console: login, the board (REST list, then socket.io `incident` events applied by id),
// actions with a note, an incident's detail (audit timeline, readings, address, floor view) and
// the overview. The server decides what a user may see: the socket only carries their rooms.
'use strict';

(function () {
  const STRINGS = window.GW_I18N;
  const $ = (sel) => document.querySelector(sel);
  const state = {
    // zh-CN first: the console's staff work in Chinese; English only when someone chose it.
    lang: window.localStorage.getItem('gw.lang') || 'zh-CN',
    user: null,
    incidents: new Map(),
    /** The board's rows by incident id: updated in place, never rebuilt (keyed updates). */
    rows: new Map(),
    /** A pointer is pressed on the board: rows are not inserted or moved until it is released. */
    pressed: false,
    layoutPending: false,
    holdTimer: null,
    socket: null,
    tab: 'board',
    detailId: null,
    units: null,
    /** Words and the lifecycle table from GET /api/v1/catalogue (the server is their one source). */
    catalogue: null,
  };
  /** The buttons the board offers, in this order, wherever the server's lifecycle allows them. */
  const BOARD_ACTIONS = ['acknowledge', 'dispatch', 'on_site', 'resolve', 'close', 'false_alarm', 'note'];

  function t(key, vars) {
    const table = STRINGS[state.lang] || STRINGS.en;
    let text = table[key] !== undefined ? table[key] : (STRINGS.en[key] !== undefined ? STRINGS.en[key] : key);
    for (const [k, v] of Object.entries(vars || {})) text = text.replace('{' + k + '}', String(v));
    return text;
  }
  const pick = (labels, fallback) => (labels ? labels[state.lang] || labels.en : fallback);
  const typeName = (code) => pick(state.catalogue && state.catalogue.typeIndex.get(code) && state.catalogue.typeIndex.get(code).labels, code);
  const familyName = (code) => pick(state.catalogue && state.catalogue.familyIndex.get(code) && state.catalogue.familyIndex.get(code).labels, code);

  const lifecycleAction = (action) => state.catalogue.lifecycle.actions.find((a) => a.action === action);
  const isOpenStatus = (status) => !state.catalogue.lifecycle.finalStatuses.includes(status);
  const allowedFrom = (action, status) => { const a = lifecycleAction(action); return Boolean(a && a.from.includes(status)); };

  async function loadCatalogue() {
    const c = await api('GET', '/api/v1/catalogue');
    c.typeIndex = new Map(c.alarmTypes.map((x) => [x.code, x]));
    c.familyIndex = new Map(c.families.map((x) => [x.code, x]));
    state.catalogue = c;
    return c;
  }

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $('#lang').textContent = state.lang === 'zh-CN' ? 'EN' : '中文';
    if (state.catalogue) syncBoard();
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
    const ao = isOpenStatus(a.status) ? 0 : 1;
    const bo = isOpenStatus(b.status) ? 0 : 1;
    if (ao !== bo) return ao - bo;
    if (ao === 0 && a.level !== b.level) return a.level - b.level;
    return b.raisedAt - a.raisedAt || b.id - a.id;
  }

  /** What staff read: the place name and text address; codes only when the address book has no text. */
  function place(i) {
    const readable = [i.placeName, i.addressText].filter(Boolean);
    if (readable.length) return readable.join(' · ');
    const parts = [];
    if (i.community) parts.push(t('tier.community') + ' ' + i.community);
    if (i.grid) parts.push(t('tier.grid') + ' ' + i.grid);
    if (i.addressId) parts.push(i.addressId);
    return parts.join(' · ') || '—';
  }

  function deadlineText(i) {
    const pending = (i.deadlines || []).filter((d) => d.firedAt === null && d.cancelledAt === null);
    if (!isOpenStatus(i.status) || pending.length === 0) return { text: '—', cls: '' };
    const d = pending.sort((x, y) => x.dueAt - y.dueAt)[0];
    const left = d.dueAt - Date.now();
    if (left < 0) return { text: t('overdue', { t: duration(-left) }), cls: 'overdue' };
    return { text: t('left', { kind: t('deadline.' + d.kind), t: duration(left) }), cls: left < 60000 ? 'soon' : '' };
  }

  // ISA-18.2 "returned, unacknowledged": the devices are back to normal, nobody has acknowledged yet.
  function awaitingAck(i) {
    return i.open && i.alarmState === 'returned' && (i.status === 'raised' || i.status === 'dispatched');
  }

  function statusText(i) {
    return awaitingAck(i) ? t('status.returned_unack') : t('status.' + i.status);
  }

  /** Buttons for one incident: what the server's lifecycle allows; a note only while it is open. */
  function boardActions(i) {
    const open = isOpenStatus(i.status);
    if (i.kind === 'flood') return open ? ['note'] : [];
    return BOARD_ACTIONS.filter((a) => (a === 'note' ? open : allowedFrom(a, i.status)));
  }

  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
  const setClass = (node, cls) => { if (node.className !== cls) node.className = cls; };

  function createRow(i) {
    const id = i.id;
    const cells = {
      badge: el('span', {}),
      type: el('td', { class: 'type' }),
      place: el('span', { class: 'place-text' }),
      unit: el('span', { class: 'unit muted' }),
      status: el('td', {}),
      since: el('td', { class: 'since' }),
      deadline: el('td', {}),
      actions: el('td', { class: 'actions' }),
    };
    const tr = el('tr', { 'data-id': String(id), onclick: () => openDetail(id) },
      el('td', { class: 'level' }, cells.badge), cells.type, el('td', { class: 'place' }, cells.place, cells.unit), cells.status, cells.since, cells.deadline, cells.actions);
    tr.gwCells = cells;
    tr.dataset.shownAt = String(i._shownAt || Date.now());
    return tr;
  }

  function button(id, action) {
    return el('button', { type: 'button', 'data-action': action, class: 'act act-' + action, onclick: (e) => { e.stopPropagation(); askAction(id, action); } });
  }

  /** Keyed buttons: a button stays the same element while its action stays allowed. */
  function syncButtons(td, i) {
    if (td.dataset.forId !== String(i.id)) { td.replaceChildren(); td.dataset.forId = String(i.id); }
    const want = boardActions(i);
    const have = new Map([...td.children].map((b) => [b.dataset.action, b]));
    for (const [action, b] of have) if (!want.includes(action)) b.remove();
    let prev = null;
    for (const action of want) {
      const b = have.get(action) || button(i.id, action);
      setText(b, t('action.' + action));
      const next = prev ? prev.nextSibling : td.firstChild;
      if (next !== b) td.insertBefore(b, next);
      prev = b;
    }
  }

  function patchTimes(tr, i) {
    const c = tr.gwCells;
    setText(c.since, duration(Date.now() - i.raisedAt));
    const dl = deadlineText(i);
    setClass(c.deadline, 'deadline ' + dl.cls);
    setText(c.deadline, dl.text);
  }

  /** Updates one row's attributes and cells in place; nothing is replaced. */
  function patchRow(tr, i) {
    const c = tr.gwCells;
    tr.dataset.status = i.status;
    tr.dataset.alarmState = i.alarmState || 'active';
    for (const cls of [...tr.classList]) if (cls.startsWith('level-row-') && cls !== 'level-row-' + i.level) tr.classList.remove(cls);
    tr.classList.add('row', 'level-row-' + i.level);
    tr.classList.toggle('closed', !isOpenStatus(i.status));
    setClass(c.badge, 'badge level-' + i.level);
    setText(c.badge, t('level', { n: i.level }));
    setText(c.type, typeName(i.alarmType) + (i.deviceCount > 1 ? ' ×' + i.deviceCount : ''));
    setText(c.place, place(i));
    setText(c.unit, i.unitName ? '→ ' + i.unitName : '');
    setClass(c.status, 'status status-' + i.status + (awaitingAck(i) ? ' returned' : ''));
    setText(c.status, statusText(i));
    patchTimes(tr, i);
    syncButtons(c.actions, i);
  }

  /** Puts rows in board order by moving only those out of place; held while a pointer is pressed. */
  function placeRows() {
    if (state.pressed) { state.layoutPending = true; return; }
    state.layoutPending = false;
    const tbody = $('#incidents tbody');
    let prev = null;
    for (const i of [...state.incidents.values()].sort(compare)) {
      const tr = state.rows.get(i.id);
      const next = prev ? prev.nextSibling : tbody.firstChild;
      if (next !== tr) tbody.insertBefore(tr, next);
      prev = tr;
    }
  }

  function syncBoard() {
    for (const i of state.incidents.values()) {
      let tr = state.rows.get(i.id);
      if (!tr) { tr = createRow(i); state.rows.set(i.id, tr); }
      patchRow(tr, i);
    }
    for (const [id, tr] of state.rows) if (!state.incidents.has(id)) { tr.remove(); state.rows.delete(id); }
    $('#empty').hidden = state.incidents.size > 0;
    placeRows();
  }

  function clearBoard() {
    for (const tr of state.rows.values()) tr.remove();
    state.rows.clear();
    state.incidents.clear();
  }

  // A press and its release must land on the same element for a click: hold the layout meanwhile.
  // A release the page never hears (outside the window) must not freeze the board: 5 s at most.
  const HOLD_MAX_MS = 5000;
  $('#incidents').addEventListener('pointerdown', () => {
    state.pressed = true;
    clearTimeout(state.holdTimer);
    state.holdTimer = setTimeout(release, HOLD_MAX_MS);
  });
  const release = () => {
    if (!state.pressed) return;
    state.pressed = false;
    clearTimeout(state.holdTimer);
    // After the click event of this release has been dispatched.
    if (state.layoutPending) setTimeout(placeRows, 0);
  };
  window.addEventListener('pointerup', release, true);
  window.addEventListener('pointercancel', release, true);
  window.addEventListener('blur', release);

  function flash(tr) {
    tr.classList.remove('flash');
    void tr.offsetWidth; // restart the CSS animation on the same element
    tr.classList.add('flash');
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
    syncBoard();
    const tr = state.rows.get(incident.id);
    if (tr) flash(tr);
    if (!previous && isOpenStatus(incident.status) && incident.level <= 2) { beep(); notify(incident); }
    // Deadlines change with the status: refresh them for this incident only.
    if (!previous || previous.status !== incident.status) {
      api('GET', '/api/v1/incidents/' + incident.id + '/context').then((ctx) => {
        const current = state.incidents.get(incident.id);
        const tr = state.rows.get(incident.id);
        if (current && tr) { current.deadlines = ctx.deadlines; patchTimes(tr, current); }
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
      eventRows.push([new Date(ev.edgeTime).toLocaleTimeString(state.lang), t('event.' + ev.action) + (ev.test ? ' · ' + t('event.test') : ''), values || ev.reason]);
    }
    const latestRows = (ctx.latest || []).map((r) => [r.point, String(r.value), new Date(r.t).toLocaleTimeString(state.lang)]);
    body.replaceChildren(
      el('h2', {}, el('span', { class: 'badge level-' + incident.level }, t('level', { n: incident.level })), ' ', typeName(incident.alarmType), ' #' + incident.id),
      el('p', { class: 'status status-' + incident.status + (awaitingAck(incident) ? ' returned' : '') }, statusText(incident)),
      el('dl', {},
        el('dt', {}, t('detail.device')), el('dd', {}, incident.gatewayId + ' / ' + incident.deviceId),
        el('dt', {}, t('detail.hazard')), el('dd', {}, incident.hazard ? familyName(incident.hazard) : '—'),
        el('dt', {}, t('detail.raised')), el('dd', {}, new Date(incident.raisedAt).toLocaleString(state.lang)),
        el('dt', {}, t('detail.unit')), el('dd', {}, incident.unitId ? (incident.unitName || incident.unitId) + ' (' + t('tier.' + incident.tier) + ')' : '—'),
        el('dt', {}, t('detail.occurrences')), el('dd', {}, String(incident.occurrences)),
      ),
      el('h3', {}, t('detail.address')),
      a && (a.placeName || a.addressText) ? el('p', { class: 'readable' }, [a.placeName, a.addressText].filter(Boolean).join(' · '),
        a.contactPhone ? el('a', { class: 'phone', href: 'tel:' + a.contactPhone }, ' ☎ ' + a.contactPhone) : null) : null,
      a ? el('p', { class: 'codes' }, [t('tier.district') + ' ' + a.district, t('tier.street') + ' ' + a.street, t('tier.community') + ' ' + a.community, t('tier.grid') + ' ' + a.grid].join(' › '),
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
    // The detail's own actions: keyed like the board's, outside the body that is re-rendered.
    syncButtons($('#detail-actions'), incident);
    $('#detail').hidden = false;
    document.body.classList.add('detail-open');
  }
  function closeDetail() { state.detailId = null; $('#detail').hidden = true; document.body.classList.remove('detail-open'); }
  $('#detail-close').addEventListener('click', closeDetail);

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
    closeDetail();
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
    closeDetail();
    $('#who').textContent = '';
  }

  /** The header names the user's areas by their names (address book import), '*' as all areas. */
  async function showJurisdictions(user) {
    const body = await api('GET', '/api/v1/jurisdictions');
    const names = new Map(body.jurisdictions.map((j) => [j.tier + ':' + j.code, j.name]));
    const areas = user.jurisdictions.map((j) => {
      if (j === '*') return t('scope.all');
      const i = j.indexOf(':');
      return i > 0 ? names.get(j) || t('tier.' + j.slice(0, i)) + ' ' + j.slice(i + 1) : j;
    });
    $('#who').textContent = (user.displayName || user.username) + ' · ' + areas.join('、');
  }

  async function start(user) {
    state.user = user;
    $('#who').textContent = user.displayName || user.username;
    showJurisdictions(user).catch(() => undefined);
    $('#login').hidden = true;
    $('#tabs').hidden = false;
    $('#logout').hidden = false;
    showTab('board');
    const [body] = await Promise.all([api('GET', '/api/v1/incidents?limit=200&deadlines=pending'), state.catalogue || loadCatalogue()]);
    clearBoard();
    for (const i of body.incidents) state.incidents.set(i.id, i);
    syncBoard();
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
  // Only the two time cells change: the rows, and the buttons in them, stay the same elements.
  setInterval(() => {
    if (!state.user || state.tab !== 'board') return;
    for (const [id, tr] of state.rows) { const i = state.incidents.get(id); if (i) patchTimes(tr, i); }
  }, 1000);

  applyLanguage();
  fetch('/api/v1/auth/me', { credentials: 'same-origin' }).then((res) => (res.ok ? res.json() : null)).then((body) => {
    if (body) start(body.user); else showLogin();
  }, showLogin);
})();
