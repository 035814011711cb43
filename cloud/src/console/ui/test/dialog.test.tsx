// The action dialog: a reassign needs a reason and a unit and is sent as the contract's body; the
// detail's audit trail names the logged-in staffer by display name and the new unit by name.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { ActionDialog } from '../ActionDialog.tsx';
import { Detail } from '../Detail.tsx';
import { catalogue, incident, setup } from './fixtures.ts';
import type { Unit } from '../types.ts';

const UNITS: Unit[] = [
  { id: 'lh-grid-01', name: '水贝一网格网格员', type: 'grid_worker', tier: 'grid', area: 'LH-G01' },
  { id: 'lh-comm-01', name: '水贝社区工作站', type: 'community_office', tier: 'community', area: 'LH-C01' },
];
let root: HTMLDivElement;
const json = (body: unknown): Response => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });

beforeEach(() => {
  setup('zh-CN');
  // happy-dom's <dialog>: showModal/close as attribute toggles are enough here.
  HTMLDialogElement.prototype.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
  root = document.createElement('div');
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
});

test('reassign: without a reason nothing is sent; with one the body names the unit and the reason', async () => {
  const i = incident({ status: 'acknowledged' });
  const fetch = vi.fn(async () => json({ ...i, unitId: 'lh-comm-01' }));
  vi.stubGlobal('fetch', fetch);
  const done = vi.fn();
  act(() => render(<ActionDialog target={{ id: i.id, action: 'reassign' }} incident={i} units={UNITS} areas={new Map()} onDone={done} />, root));
  const options = [...root.querySelectorAll('#action-unit option')].map((o) => o.getAttribute('value'));
  expect(options).toEqual(['lh-comm-01']);
  await act(async () => {
    root.querySelector('#action-submit')?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    root.querySelector('form')?.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  expect(fetch).not.toHaveBeenCalled();
  expect(root.querySelector('#action-error')?.textContent).toBe('请填写原因');
  (root.querySelector('#action-note') as HTMLTextAreaElement).value = '需要社区工作站协助';
  await act(async () => {
    root.querySelector('form')?.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  expect(fetch).toHaveBeenCalledTimes(1);
  const [path, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
  expect(path).toBe(`/api/v1/incidents/${i.id}/actions`);
  expect(JSON.parse(String(init.body))).toEqual({ action: 'reassign', note: '需要社区工作站协助', unitId: 'lh-comm-01' });
  await vi.waitFor(() => expect(done).toHaveBeenCalledWith(expect.objectContaining({ unitId: 'lh-comm-01' })));
});

test('the detail timeline: each step in Chinese, the staffer by display name, the new unit by name', async () => {
  const i = incident({ status: 'on_site' });
  const audit = [
    { id: 1, at: Date.now(), actor: 'system', source: 'routing', action: 'dispatch', fromStatus: 'raised', toStatus: 'dispatched', note: 'routed to lh-grid-01', deadlineId: null },
    { id: 2, at: Date.now(), actor: 'zhou.min', source: 'console:1', action: 'acknowledge', fromStatus: 'dispatched', toStatus: 'acknowledged', note: '收到', deadlineId: null },
    { id: 3, at: Date.now(), actor: 'zhou.min', source: 'console:1', action: 'reassign', fromStatus: 'acknowledged', toStatus: 'acknowledged', note: '需要协助', deadlineId: null, noteCode: null, noteParams: { fromUnit: 'lh-grid-01', toUnit: 'lh-comm-01' } },
    { id: 4, at: Date.now(), actor: 'zhou.min', source: 'console:1', action: 'on_site', fromStatus: 'acknowledged', toStatus: 'on_site', note: '', deadlineId: null },
  ];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (path: string) => json(path.endsWith('/audit') ? { audit } : path.endsWith('/context') ? { address: null, events: [], deadlines: [] } : i)),
  );
  const user = { username: 'zhou.min', displayName: '周敏', role: 'community_staff', jurisdictions: ['community:LH-C01'] };
  const unitName = (id: string): string => UNITS.find((u) => u.id === id)?.name ?? id;
  act(() => render(<Detail id={i.id} live={i} catalogue={catalogue} user={user} ask={() => undefined} close={() => undefined} unitName={unitName} />, root));
  await vi.waitFor(() => expect(root.querySelectorAll('.timeline li')).toHaveLength(4));
  const items = [...root.querySelectorAll('.timeline li')].map((li) => li.textContent ?? '');
  expect(items).toHaveLength(4);
  expect(items[0]).toMatch(/分拨 → 已分拨 系统/);
  expect(items[1]).toMatch(/确认 → 已确认 周敏收到/);
  expect(items[2]).toMatch(/转派 → 水贝社区工作站 周敏需要协助/);
  expect(items[3]).toMatch(/到场 → 已到场 周敏/);
  expect(items.join(' ')).not.toMatch(/zhou\.min/);
  // The detail's own actions follow the lifecycle: on site → resolve offered.
  expect(root.querySelector('#detail-actions button[data-action="resolve"]')).not.toBeNull();
});
