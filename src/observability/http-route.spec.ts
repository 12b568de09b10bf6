import type { FastifyRequest } from 'fastify';
import { routePattern, UNMATCHED_ROUTE } from './http-route';

describe('routePattern', () => {
  it('is the matched route pattern', () => {
    const request = { is404: false, routeOptions: { url: '/accounts/:accountId' } };
    expect(routePattern(request as FastifyRequest)).toBe('/accounts/:accountId');
  });

  it('is one fixed value when no route matched, whatever the URL', () => {
    const request = { is404: true, url: '/acc-123/secret', routeOptions: { url: undefined } };
    expect(routePattern(request as unknown as FastifyRequest)).toBe(UNMATCHED_ROUTE);
  });
});
