// The keyed board (issue #13): a live update or a new alarm never replaces the element under the
// pointer, and rows are not moved while a pointer is pressed on the board; the buttons follow the
// server's lifecycle table; the zh-CN board reads as Chinese places, no English words.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { Board } from '../Board.tsx';
import { NO_FILTERS, actionsFor } from '../board-model.ts';
import { ConsoleStore } from '../store.ts';
import { catalogue, incident, setup } from './fixtures.ts';

let root: HTMLDivElement;
let store: ConsoleStore;
const ask = vi.fn();
const open = vi.fn();

function show(now = Date.now()): void {
  act(() => render(<Board store={store} filters={NO_FILTERS} now={now} ask={ask} open={open} />, root));
}
const rowIds = (): number[] => [...root.querySelectorAll('tbody tr')].map((tr) => Number(tr.getAttribute('data-id')));
const button = (id: number, action: string): HTMLButtonElement | null => root.querySelector(`tr[data-id="${id}"] button[data-action="${action}"]`);

beforeEach(() => {
  setup('zh-CN');
  // The store refreshes deadlines through the API after a status change: an empty answer here.
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ deadlines: [], events: [], address: null }), { headers: { 'content-type': 'application/json' } })));
  root = document.createElement('div');
  document.body.append(root);
  store = new ConsoleStore(catalogue);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.unstubAllGlobals();
});

describe('keyed board', () => {
  test('a live update and the 1 s tick patch the row in place: the same row and button elements', () => {
    const a = incident({ level: 1 });
    act(() => store.apply(a));
    show();
    const tr = root.querySelector(`tr[data-id="${a.id}"]`);
    const ack = button(a.id, 'acknowledge');
    expect(ack).not.toBeNull();
    act(() => store.apply({ ...a, occurrences: 2, updatedAt: a.updatedAt + 1 }));
    show(Date.now() + 5000);
    expect(root.querySelector(`tr[data-id="${a.id}"]`)).toBe(tr);
    expect(button(a.id, 'acknowledge')).toBe(ack);
    expect(ack?.isConnected).toBe(true);
    // The status changes: the acknowledge button goes, the others stay the same elements.
    const note = button(a.id, 'note');
    act(() => store.apply({ ...a, status: 'acknowledged', updatedAt: a.updatedAt + 2 }));
    show();
    expect(button(a.id, 'acknowledge')).toBeNull();
    expect(button(a.id, 'note')).toBe(note);
    expect(button(a.id, 'resolve')).not.toBeNull();
  });

  test('while a pointer is pressed a more urgent new alarm waits; after the release it goes on top', async () => {
    const low = incident({ level: 3 });
    act(() => store.apply(low));
    show();
    const target = button(low.id, 'acknowledge') as HTMLButtonElement;
    act(() => {
      root.querySelector('#incidents')?.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    });
    const urgent = incident({ level: 1 });
    act(() => store.apply(urgent));
    show();
    expect(rowIds()).toEqual([low.id]);
    expect(root.querySelector('tbody tr')?.contains(target)).toBe(true);
    act(() => {
      window.dispatchEvent(new Event('pointerup'));
    });
    await act(() => new Promise((r) => setTimeout(r, 5)));
    show();
    expect(rowIds()).toEqual([urgent.id, low.id]);
    expect(button(low.id, 'acknowledge')).toBe(target);
  });

  test('without the hold (no pointer pressed) the new urgent alarm goes on top at once', () => {
    const low = incident({ level: 3 });
    act(() => store.apply(low));
    show();
    const urgent = incident({ level: 1 });
    act(() => store.apply(urgent));
    show();
    expect(rowIds()).toEqual([urgent.id, low.id]);
  });

  test('the zh-CN board shows the place name, text address and unit, and no English words', () => {
    act(() => store.apply(incident({ level: 1 })));
    act(() => store.apply(incident({ level: 2, alarmType: 'gas_high', status: 'acknowledged' })));
    show();
    const text = root.textContent ?? '';
    expect(text).toContain('水贝珠宝城A12铺 · 罗湖区东晓街道水贝二路12号');
    expect(text).toContain('水贝一网格网格员');
    expect(text).toContain('烟感告警');
    expect(text).not.toMatch(/[A-Za-z]{2,}/);
  });
});

describe('buttons from the server lifecycle table', () => {
  test('each button is an action the table allows from the status; unknown or hidden ones are not offered', () => {
    for (const status of catalogue.lifecycle.statuses) {
      const i = incident({ status: status as never });
      for (const action of actionsFor(catalogue, i)) {
        const row = catalogue.lifecycle.actions.find((a) => a.action === action);
        expect(row?.from, `${action} from ${status}`).toContain(status);
      }
      expect(actionsFor(catalogue, i)).not.toContain('test');
    }
  });

  test('a shelved incident offers unshelve, not shelve; a flood notice offers acknowledge-all', () => {
    const hasShelving = catalogue.lifecycle.actions.some((a) => a.action === 'shelve');
    const shelved = actionsFor(catalogue, incident({ shelvedUntil: new Date(Date.now() + 3600_000).toISOString() }));
    expect(shelved).not.toContain('shelve');
    if (hasShelving) expect(shelved).toContain('unshelve');
    expect(actionsFor(catalogue, incident({ kind: 'flood', status: 'dispatched' }))).toEqual(['acknowledge_group', 'note']);
  });
});
