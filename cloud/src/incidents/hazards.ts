// The cloud's view of the alarm-type catalogue (firmware-profiles/alarm-types.yaml): which hazard
// family an alarm type belongs to and whether that family correlates across devices.
import { alarmTypes } from '@gridwatch/firmware-profiles';

export function hazardOf(alarmType: string): string {
  return alarmTypes().familyOf(alarmType);
}

export function correlatesAcrossDevices(alarmType: string): boolean {
  return alarmTypes().correlates(alarmType);
}

export type AlarmLane = 'emergency' | 'maintenance';

/** The queue an alarm type goes to: the emergency board or the installer's maintenance queue. */
export function laneOf(alarmType: string): AlarmLane {
  const catalogue = alarmTypes();
  return catalogue.families.get(catalogue.familyOf(alarmType))?.lane ?? 'emergency';
}

/** Alarm types of a lane, for filtering in SQL. */
export function typesOfLane(lane: AlarmLane): string[] {
  return [...alarmTypes().types.values()].filter((t) => laneOf(t.code) === lane).map((t) => t.code);
}
