# syntax=docker/dockerfile:1.7
# The TypeScript services, one target each, all from one build of the workspace. From the repository root:
#   docker build -f deploy/docker/node.Dockerfile --target registry -t speakers-registry .
# Targets: provision, registry, capture, plugin-presence, plugin-home-assistant, plugin-unknown-voices. Each runs the
# command the tests and READMEs use (`node <package>/dist/main.js` from the repository root).
# The base is pinned by tag and digest; the digest comes from public references and was not pulled here (no
# Docker engine on the build machines): check it with `docker buildx imagetools inspect <image>`.
ARG NODE_IMAGE=node:20.19.5-bookworm-slim@sha256:9e70124bd00f47dd023e349cd587132ae61892acc0e47ed641416c3e18f401c3

FROM ${NODE_IMAGE} AS build
# pnpm at the version package.json pins (packageManager), through corepack.
RUN corepack enable
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm -s build
# Drop the dev dependencies (typescript, vitest, testcontainers...) from what the runtime image copies.
RUN pnpm install --frozen-lockfile --prod --offline

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service user `node` (uid 1000, from the base image).
COPY --from=build /app /app
USER node

FROM runtime AS provision
# The admin's one-shot step before the services start: create or update every stream, consumer and bucket.
# The services' own users may only check these exist (deploy/nats/auth.conf). Exits when done: no health check.
HEALTHCHECK NONE
CMD ["node", "apps/cli/dist/main.js", "provision"]

FROM runtime AS registry
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "registry"]
CMD ["node", "services/speaker-registry/dist/main.js"]

FROM runtime AS capture
# Listen beyond loopback inside the container; docker-compose.yml decides what is published.
ENV CAPTURE_HTTP_HOST=0.0.0.0 CAPTURE_HTTP_PORT=8787
EXPOSE 8787
# /readyz is 200 only while the bus is reachable and a live embedding worker answers (readiness.ts).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "services/audio-capture/dist/main.js"]

FROM runtime AS plugin-presence
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "presence"]
CMD ["node", "plugins/presence/dist/main.js"]

FROM runtime AS plugin-unknown-voices
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "unknown-voices"]
CMD ["node", "plugins/unknown-voices/dist/main.js"]

FROM runtime AS plugin-home-assistant
# This plugin serves no NATS endpoint to PING; a process that lost NATS for good exits, and compose restarts it.
HEALTHCHECK NONE
CMD ["node", "plugins/home-assistant/dist/main.js"]

FROM runtime AS wyoming-bridge
# Listen beyond loopback inside the container; docker-compose.yml decides what is published.
ENV SPEAKERS_WYOMING_URI=tcp://0.0.0.0:10350
EXPOSE 10350
# Healthy when it answers a Wyoming describe with info, as Home Assistant asks.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "deploy/docker/wyoming-healthcheck.mjs"]
CMD ["node", "services/wyoming-bridge/dist/main.js"]
