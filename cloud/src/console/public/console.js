// Live incident table: loads the current list over REST, then applies socket.io `incident` events
// (same JSON shape) by id, so a row is created once and updated in place.
'use strict';

(function () {
  const tbody = document.querySelector('#incidents tbody');
  const empty = document.getElementById('empty');
  const connection = document.getElementById('connection');
  const rows = new Map();

  const STATUS_LABELS = { raised: '告警中 raised', cleared: '已恢复 cleared' };

  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function render(incident) {
    const tr = document.createElement('tr');
    tr.dataset.id = String(incident.id);
    tr.className = incident.status === 'cleared' ? 'cleared' : '';
    tr.append(
      cell(new Date(incident.raisedEdgeTime).toLocaleString()),
      cell(String(incident.level), 'level level-' + incident.level),
      cell(incident.gatewayId + ' / ' + incident.deviceId),
      cell(incident.alarmType),
      cell(STATUS_LABELS[incident.status] || incident.status),
      cell(incident.addressId || '—'),
      cell(String(incident.occurrences)),
    );
    tr.title = incident.reason;
    return tr;
  }

  function upsert(incident, live) {
    const tr = render(incident);
    const existing = rows.get(incident.id);
    if (existing) existing.replaceWith(tr);
    else if (live) tbody.prepend(tr);
    else tbody.append(tr);
    rows.set(incident.id, tr);
    if (live) tr.classList.add('flash');
    empty.hidden = rows.size > 0;
  }

  fetch('/api/v1/incidents?limit=200')
    .then((res) => res.json())
    .then((body) => body.incidents.forEach((incident) => upsert(incident, false)))
    .catch((err) => { empty.textContent = '加载失败 failed to load: ' + err.message; });

  const socket = io();
  socket.on('connect', () => { connection.textContent = '在线 live'; connection.className = 'online'; });
  socket.on('disconnect', () => { connection.textContent = '离线 offline'; connection.className = 'offline'; });
  socket.on('incident', (incident) => upsert(incident, true));
})();
