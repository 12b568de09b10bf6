import { request } from 'node:http';
import { guardedLookup, isForbiddenAddress, literalHostForbidden } from './url-policy';
import { retryDelay } from './delivery-worker';

describe('webhook URL policy', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
  ])('forbids %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('checks IP literals in URLs (they are never looked up)', () => {
    expect(literalHostForbidden('http://[::1]:8080/x')).toBe(true);
    expect(literalHostForbidden('http://10.0.0.1/x')).toBe(true);
    expect(literalHostForbidden('https://93.184.216.34/x')).toBe(false);
    expect(literalHostForbidden('https://localhost/x')).toBe(false); // a name: the lookup checks it
  });

  it('refuses, at connection time, a host name that resolves to a loopback address', async () => {
    const error = await new Promise<Error & { code?: string }>((resolve) => {
      const req = request('http://localhost:9/', { lookup: guardedLookup(false) });
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('URL_NOT_ALLOWED');
    expect(error.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a forbidden address/);
  });

  it('lets it through when private targets are allowed (then the connection itself fails here)', async () => {
    const error = await new Promise<Error & { code?: string }>((resolve) => {
      const req = request('http://localhost:9/', { lookup: guardedLookup(true) });
      req.on('error', resolve);
      req.end();
    });
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe('retry backoff', () => {
  it('doubles per attempt up to the cap, jittered between half and all of it', () => {
    expect(retryDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelay(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelay(3, 1000, 60_000, () => 0.5)).toBe(3000);
    expect(retryDelay(30, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelay(10_000, 1000, 60_000, () => 0)).toBe(30_000);
  });

  it('retries for at least 24 h with the defaults before the window closes', () => {
    // Worst case (every jitter at its maximum) still needs many attempts to pass 24 h.
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 86_400_000) {
      attempts += 1;
      elapsed += retryDelay(attempts, 5000, 3_600_000, () => 1);
    }
    expect(attempts).toBeGreaterThan(20);
  });
});
