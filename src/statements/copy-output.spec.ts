import { CopyOutput, type CopyOutputOptions, StatementStalledError } from './copy-output';

const OPTIONS: CopyOutputOptions = { crlf: false, dropFirstByte: false, stallTimeoutMs: 60_000 };

/** Writes the chunks through a CopyOutput and returns what it gave out. */
async function through(chunks: string[], options: Partial<CopyOutputOptions>): Promise<string> {
  const output = new CopyOutput({ ...OPTIONS, ...options });
  const out: Buffer[] = [];
  output.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => output.once('end', resolve));
  for (const chunk of chunks) output.write(Buffer.from(chunk));
  output.end();
  await ended;
  return Buffer.concat(out).toString('utf8');
}

describe('CopyOutput', () => {
  it('passes bytes through unchanged by default', async () => {
    expect(await through(['{"a":1}\n', '{"b":"x\\\\n"}\n'], {})).toBe('{"a":1}\n{"b":"x\\\\n"}\n');
  });

  it('drops only the first byte of the stream (the JSON separator before the first entry)', async () => {
    expect(await through([',', '{"a":1}\n,{"b":2}\n'], { dropFirstByte: true })).toBe(
      '{"a":1}\n,{"b":2}\n',
    );
    expect(await through([',{"a":1}\n', ',{"b":2}\n'], { dropFirstByte: true })).toBe(
      '{"a":1}\n,{"b":2}\n',
    );
  });

  it('csv: turns row ends into CRLF, but keeps line breaks inside quoted fields', async () => {
    const copy = '1,a,,\n2,"x\ny ""q""\r\nz",,\n3,b,,\n';
    const expected = '1,a,,\r\n2,"x\ny ""q""\r\nz",,\r\n3,b,,\r\n';
    expect(await through([copy], { crlf: true })).toBe(expected);
  });

  it('csv: tracks quotes across chunk boundaries, wherever the chunks split', async () => {
    const copy = '1,a,,\n2,"x\ny ""q""\nz",,\n3,"",,\n4,b,,\n';
    const expected = '1,a,,\r\n2,"x\ny ""q""\nz",,\r\n3,"",,\r\n4,b,,\r\n';
    for (let at = 0; at <= copy.length; at++) {
      expect(await through([copy.slice(0, at), copy.slice(at)], { crlf: true })).toBe(expected);
    }
  });

  describe('stall timeout', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    it('fails the stream when no chunk passes for stallTimeoutMs, and only then', async () => {
      const output = new CopyOutput({ ...OPTIONS, stallTimeoutMs: 1_000 });
      const errors: Error[] = [];
      output.on('error', (error) => errors.push(error));
      output.resume();
      jest.advanceTimersByTime(900);
      output.write(Buffer.from('1\n')); // progress resets the timer
      jest.advanceTimersByTime(900);
      expect(output.destroyed).toBe(false);
      jest.advanceTimersByTime(100);
      expect(output.destroyed).toBe(true);
      await new Promise((resolve) => output.once('close', resolve));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(StatementStalledError);
    });

    it('stops watching once the stream has ended', async () => {
      const output = new CopyOutput({ ...OPTIONS, stallTimeoutMs: 1_000 });
      output.resume();
      const ended = new Promise((resolve) => output.once('end', resolve));
      output.end();
      jest.runOnlyPendingTimers();
      await ended;
      jest.advanceTimersByTime(5_000);
      expect(output.destroyed).toBe(true); // autoDestroy after end, not an error
      expect(output.errored).toBeNull();
    });
  });
});
