import { Transform, type TransformCallback } from 'node:stream';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

export interface CopyOutputOptions {
  /** End each row with CRLF (RFC 4180) instead of COPY's LF; LFs inside quotes are data. */
  crlf: boolean;
  /** Drop the stream's first byte (the separator COPY writes before the first JSON entry). */
  dropFirstByte: boolean;
  /** Fail when no chunk has passed for this long: the client stopped reading. */
  stallTimeoutMs: number;
}

/** The error a statement fails with when its client stops reading. */
export class StatementStalledError extends Error {
  constructor(ms: number) {
    super(`the statement's client read nothing for ${ms} ms`);
    this.name = 'StatementStalledError';
  }
}

/**
 * Turns COPY's output into the statement body's bytes, chunk by chunk, without holding more
 * than the chunk at hand: CRLF row ends for CSV (tracking quotes across chunks, so a line
 * break inside a quoted field stays as it is) and the leading JSON separator dropped.
 *
 * It also watches progress: under backpressure nothing reaches `_transform`, so a timer that
 * every chunk resets fires only when the client has read nothing for `stallTimeoutMs`; the
 * stream then fails, which ends the COPY and gives its connection back.
 */
export class CopyOutput extends Transform {
  private quoted = false;
  private dropFirst: boolean;
  private readonly stall: NodeJS.Timeout;

  constructor(private readonly options: CopyOutputOptions) {
    super();
    this.dropFirst = options.dropFirstByte;
    this.stall = setTimeout(
      () => this.destroy(new StatementStalledError(options.stallTimeoutMs)),
      options.stallTimeoutMs,
    ).unref();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.stall.refresh();
    let bytes = chunk;
    if (this.dropFirst && bytes.length > 0) {
      bytes = bytes.subarray(1);
      this.dropFirst = false;
    }
    callback(null, this.options.crlf ? this.toCrlf(bytes) : bytes);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.stall);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.stall);
    callback(error);
  }

  /** The chunk with every LF outside quotes turned into CRLF (a doubled quote toggles twice). */
  private toCrlf(chunk: Buffer): Buffer {
    const rowEnds: number[] = [];
    if (!this.quoted && chunk.indexOf(QUOTE) === -1) {
      for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) rowEnds.push(at);
    } else {
      for (let at = 0; at < chunk.length; at++) {
        const byte = chunk[at];
        if (byte === QUOTE) this.quoted = !this.quoted;
        else if (byte === LF && !this.quoted) rowEnds.push(at);
      }
    }
    if (rowEnds.length === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + rowEnds.length);
    let read = 0;
    let written = 0;
    for (const at of rowEnds) {
      written += chunk.copy(out, written, read, at);
      out[written++] = CR;
      out[written++] = LF;
      read = at + 1;
    }
    chunk.copy(out, written, read);
    return out;
  }
}
