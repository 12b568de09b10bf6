import type { Request } from 'express';
import { routePattern, UNMATCHED_ROUTE } from './http-route';

describe('routePattern', () => {
  it('is the matched route pattern, under its mount path', () => {
    expect(routePattern({ baseUrl: '', route: { path: '/accounts/:accountId' } } as Request)).toBe(
      '/accounts/:accountId',
    );
    expect(routePattern({ baseUrl: '/v2', route: { path: '/x' } } as unknown as Request)).toBe(
      '/v2/x',
    );
  });

  it('is one fixed value when no route matched, whatever the URL', () => {
    expect(routePattern({ baseUrl: '', url: '/acc-123/secret' } as Request)).toBe(UNMATCHED_ROUTE);
  });
});
