# syntax=docker/dockerfile:1
# Production image of the Banking Ledger API.
#
#   docker build -t banking-ledger-api .
#   docker run -e DATABASE_URL=postgresql://user:pass@host:5432/ledger -p 3000:3000 banking-ledger-api
#
# The container needs DATABASE_URL: the embedded PostgreSQL that `npm start` uses on a
# developer machine is not in the image (see the runtime stage).
# The current Node.js LTS line (Node 20 reached end of life in April 2026). package.json
# keeps `engines` at >=20.19 for source installs; the image is built and run on this one.
ARG NODE_VERSION=24

# --- build: compile TypeScript with the full dependency tree ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed to compile (they fetch PostgreSQL binaries and telemetry).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# --- runtime: production dependencies only, non-root ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional drops embedded-postgres' platform binaries (~60 MB): with DATABASE_URL set
# they are never loaded (the service imports them only when DATABASE_URL is unset).
# --ignore-scripts: the remaining install scripts are the binaries' (omitted) and swagger-ui's
# telemetry (@scarf/scarf), which allowScripts in package.json denies as well.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
COPY --from=build /app/dist ./dist
# Files stay root-owned and read-only to the process; it writes nothing to disk (logs go to
# stdout as JSON lines).
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Without DATABASE_URL the service would try to start an embedded PostgreSQL whose binaries
# are not in this image: refuse with a clear message instead. `exec` makes node PID 1; it
# handles SIGTERM itself (stops taking requests, finishes in-flight ones, closes the pool)
# and exits within 10 s.
STOPSIGNAL SIGTERM
CMD ["/bin/sh", "-c", "if [ -z \"$DATABASE_URL\" ]; then echo 'DATABASE_URL is required: this image has no embedded PostgreSQL' >&2; exit 64; fi; exec node dist/src/main.js"]
