// Cuts a byte stream into frames by the profile's framing. It only finds frame boundaries and
// resynchronises after noise; start, end, length and checksum are checked by the decoder, so the
// vectors exercise the same checks. Bad input is counted by kind, never thrown.
import { checksumSize, hexBytes, prefixedLength, type Framing } from '@gridwatch/firmware-profiles';
import type { SerialErrorKind } from './address.ts';

export class FrameSplitter {
  private readonly framing: Framing;
  private readonly start: Buffer;
  private readonly end: Buffer;
  private readonly maxBytes: number;
  private buf: Buffer = Buffer.alloc(0);

  constructor(framing: Framing) {
    this.framing = framing;
    this.start = framing.start === undefined ? Buffer.alloc(0) : hexBytes(framing.start);
    this.end = framing.end === undefined ? Buffer.alloc(0) : hexBytes(framing.end);
    this.maxBytes = framing.maxBytes ?? 256;
  }

  get pending(): number {
    return this.buf.length;
  }

  /** Drops a partial frame (the line went quiet mid-frame); returns true if there was one. */
  flush(): boolean {
    const had = this.buf.length > 0;
    this.buf = Buffer.alloc(0);
    return had;
  }

  /** Feeds bytes; returns the complete frames and the errors met on the way. */
  push(chunk: Buffer): { frames: Buffer[]; errors: SerialErrorKind[] } {
    const frames: Buffer[] = [];
    const errors: SerialErrorKind[] = [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.start.length > 0) {
        const at = this.buf.indexOf(this.start);
        if (at < 0) {
          if (this.buf.length >= this.start.length) {
            errors.push('garbage');
            this.buf = this.buf.subarray(this.buf.length - this.start.length + 1);
          }
          break;
        }
        if (at > 0) {
          errors.push('garbage');
          this.buf = this.buf.subarray(at);
        }
      }
      const length = this.frameLength();
      if (length === null) {
        if (this.buf.length > this.maxBytes) {
          errors.push('oversize');
          this.buf = this.buf.subarray(1);
          continue;
        }
        break;
      }
      const min = this.start.length + checksumSize(this.framing.checksum.kind) + this.end.length;
      if (length > this.maxBytes || length < Math.max(1, min)) {
        errors.push(length > this.maxBytes ? 'oversize' : 'short');
        this.buf = this.buf.subarray(1);
        continue;
      }
      if (this.buf.length < length) break;
      const frame = this.buf.subarray(0, length);
      if (this.end.length > 0 && !frame.subarray(length - this.end.length).equals(this.end)) {
        // The length field promised more than arrived before the next frame: a truncated frame.
        errors.push('short');
        this.buf = this.buf.subarray(1);
        continue;
      }
      frames.push(Buffer.from(frame));
      this.buf = this.buf.subarray(length);
    }
    return { frames, errors };
  }

  private frameLength(): number | null {
    const { length } = this.framing;
    if (length.kind === 'fixed') return length.bytes;
    if (length.kind === 'prefixed') return prefixedLength(length, this.buf);
    const at = this.buf.indexOf(this.end, this.start.length);
    return at < 0 ? null : at + this.end.length;
  }
}
