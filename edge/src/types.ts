// Values handed from one stage of the data path to the next (driver → profile decoder → rules →
// outbox → uplink), kept here so each stage imports them forward and none reaches back into another.
import type { AlarmEvent } from '@gridwatch/protocol';

/** An event as the rule engine decides it; the outbox gives it its id and sequence number. */
export type EventDraft = Omit<AlarmEvent, 'id' | 'seq'>;

/** Register blocks as a polled driver reads them (the shape lives with the profile transports). */
export type { RegisterBlock } from '@gridwatch/firmware-profiles';
