import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTraversableByOthers } from './embedded-postgres';

describe('ensureTraversableByOthers', () => {
  it('adds only the search bit to ancestors that lack it, and says which', async () => {
    const root = await mkdtemp(join(tmpdir(), 'traverse-')); // 0700, like mktemp -d
    const inner = join(root, 'a', 'b');
    await mkdir(inner, { recursive: true, mode: 0o750 });
    const logged: string[] = [];
    try {
      await ensureTraversableByOthers(inner, (m) => logged.push(m));
      expect((await stat(root)).mode & 0o777).toBe(0o701);
      expect((await stat(join(root, 'a'))).mode & 0o777).toBe(0o751);
      expect((await stat(inner)).mode & 0o777).toBe(0o751);
      expect(logged).toEqual(expect.arrayContaining([expect.stringContaining(root)]));
      logged.length = 0;
      await ensureTraversableByOthers(inner, (m) => logged.push(m));
      expect(logged.filter((m) => m.includes(root))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
