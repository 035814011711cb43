// The profile half of a transport: how its points are addressed (the point schema and the
// profile-level fields), the checks the schema cannot express, and where each point's raw value
// sits in what the driver delivers. The edge's transport descriptor references one of these; the
// decoder applies the same transforms to whatever `extract` returns.
import type { Static, TObject } from '@sinclair/typebox';

/** A contiguous run of values read from one Modbus-style table; coils and discrete inputs as 0/1. */
export interface RegisterBlock {
  table: 'coil' | 'discrete' | 'holding' | 'input';
  address: number;
  values: number[];
}

/** What a driver hands the decoder: report bytes (MQTT payload, one serial frame) or register blocks. */
export type RawInput = { payload: Uint8Array | string } | { blocks: readonly RegisterBlock[] };

/** The raw value of one point, before mask/shift/scale/offset/enum; `field` names it in errors. */
export interface RawPointValue<P = { name: string }> {
  point: P;
  raw: unknown;
  field: string;
}

export type Extraction<P = { name: string }> = { ok: true; values: RawPointValue<P>[] } | { ok: false; reason: string };

type ProfileOf<S extends TObject> = Static<S> & { transport: string; points: Array<{ name: string; type: string }> };

export interface ProfileTransport<S extends TObject = TObject> {
  /** The value of a profile's `transport` field. */
  readonly id: string;
  /** Schema of a whole profile of this transport (built with `profileSchema`). */
  readonly schema: S;
  /** Checks the schema cannot express; throws a ProfileError naming the file and the JSON path. */
  check?(profile: ProfileOf<S>, file: string): void;
  /** Raw encoding of a number point (e.g. uint16), for the range a threshold can reach; undefined = unbounded. */
  rawType?(point: ProfileOf<S>['points'][number]): string | undefined;
  /** Raw values of the profile's points from one delivery; an absent point is left out. Never throws. */
  extract(profile: ProfileOf<S>, input: RawInput): Extraction<ProfileOf<S>['points'][number]>;
}

/** Keeps the literal schema type of a transport piece while checking it against the interface. */
export function defineProfileTransport<S extends TObject>(piece: ProfileTransport<S>): ProfileTransport<S> {
  return piece;
}
