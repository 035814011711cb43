// Short scripted situations for `npm run sim -- scenario NAME`: steps at offsets from the start,
// each an action on one demo device. Data, played by the sim CLI against the demo's control
// server, so a scenario can be rehearsed while watching the console.
export interface ScenarioStep {
  atMs: number;
  device: string;
  action: string;
  point?: string;
  value?: string;
  note: string;
}

export interface Scenario {
  title: string;
  steps: ScenarioStep[];
}

export const DEMO_SCENARIOS: Record<string, Scenario> = {
  'correlated-fire': {
    title: '水贝二路12号：两个烟感先后报警，合并为一起火警 (two detectors in one building join one fire incident)',
    steps: [
      { atMs: 0, device: 'smoke-1', action: 'alarm', note: '老王拉面馆烟感报警' },
      { atMs: 8000, device: 'smoke-2', action: 'alarm', note: '隔壁兴旺五金店烟感报警：同楼同类，合并' },
    ],
  },
  'gas-leak': {
    title: '粤味轩酒家后厨燃气浓度逐步上升：低报后高报，转派消防站 (a rising gas leak: gas_low, then gas_high re-routes to the fire station)',
    steps: [
      { atMs: 0, device: 'gas-1', action: 'set', point: 'gas_concentration', value: '12', note: '12 %LEL' },
      { atMs: 4000, device: 'gas-1', action: 'set', point: 'gas_concentration', value: '28', note: '28 %LEL：低报' },
      { atMs: 8000, device: 'gas-1', action: 'set', point: 'gas_concentration', value: '41', note: '41 %LEL' },
      { atMs: 12000, device: 'gas-1', action: 'set', point: 'gas_concentration', value: '57', note: '57 %LEL：高报' },
      { atMs: 13000, device: 'siren-1', action: 'set', point: 'siren', value: 'true', note: '现场声光报警' },
    ],
  },
  'watch-sos': {
    title: '独树路105号张奶奶按下手表求助键 (a smartwatch SOS goes to the community health centre)',
    steps: [
      { atMs: 0, device: 'watch-1', action: 'sos', note: '手表 SOS' },
      { atMs: 20000, device: 'watch-1', action: 'clear', note: 'SOS 复位（告警仍需人工确认）' },
    ],
  },
  'silent-detector': {
    title: '好邻居便利店的 Modbus 烟感停止应答：通信中断告警 (a Modbus detector stops answering: device_offline)',
    steps: [{ atMs: 0, device: 'smoke-4', action: 'silent', note: '烟感不再应答轮询' }],
  },
  'test-round': {
    title: '安装调试：逐个按下烟感测试键，只记录不派单 (an installer test round: recorded, never dispatched)',
    steps: [
      { atMs: 0, device: 'smoke-1', action: 'test', note: '测试 smoke-1' },
      { atMs: 3000, device: 'smoke-1', action: 'clear', note: '' },
      { atMs: 4000, device: 'smoke-2', action: 'test', note: '测试 smoke-2' },
      { atMs: 7000, device: 'smoke-2', action: 'clear', note: '' },
      { atMs: 8000, device: 'smoke-3', action: 'test', note: '测试 smoke-3' },
      { atMs: 11000, device: 'smoke-3', action: 'clear', note: '' },
    ],
  },
};
