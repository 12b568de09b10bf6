import type { FastifyInstance, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';

/** Router options of the app (see createHttpAdapter); the route table matches URLs alike. */
export const ROUTER_OPTIONS = {
  ignoreTrailingSlash: true,
  // Long enough for any id a client may send (an over-long one is a 400 from validation, not
  // a 414 from the router); the URL itself is capped by Node at 16 KB.
  maxParamLength: 8192,
} as const;

export interface ServedRoute {
  method: string;
  url: string;
}

/**
 * Every route the app serves (method and pattern), collected as Fastify registers them, and
 * matched against a URL with the same router Fastify uses: which methods does a path accept?
 * The answer to a method the path does not support is 405 with an `Allow` header.
 */
export class RouteTable {
  readonly routes: ServedRoute[] = [];
  private readonly methods = new Set<HTTPMethod>();
  private readonly router = FindMyWay(ROUTER_OPTIONS);

  add(method: string, url: string): void {
    this.routes.push({ method, url });
    this.methods.add(method as HTTPMethod);
    try {
      this.router.on(method as HTTPMethod, url, () => undefined);
    } catch {
      // The same method and pattern twice (e.g. a HEAD Fastify derived from a GET): known.
    }
  }

  /** The methods the path of `url` accepts, sorted; empty when no route has that path. */
  allowedMethods(url: string): string[] {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    return [...this.methods].filter((method) => this.router.find(method, path) !== null).sort();
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteTable;
  }
}

/** Starts collecting the routes of `instance`; call before any route is registered. */
export function trackRoutes(instance: FastifyInstance): RouteTable {
  const table = new RouteTable();
  instance.decorate('routeTable', table);
  instance.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      table.add(method, route.url);
    }
  });
  return table;
}

/** The methods the path of this (unmatched) request accepts, from the app's route table. */
export function allowedMethodsFor(request: FastifyRequest): string[] {
  const table = (request.server as Partial<FastifyInstance> | undefined)?.routeTable;
  return table ? table.allowedMethods(request.url) : [];
}
