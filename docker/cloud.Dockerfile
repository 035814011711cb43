# syntax=docker/dockerfile:1
# GridWatch cloud: ingest, incidents, dispatch queue, API and console. Multi-arch like the edge
# image: `docker buildx build --platform linux/arm64,linux/amd64 -f docker/cloud.Dockerfile .`
ARG NODE_VERSION=20.19

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY firmware-profiles/package.json firmware-profiles/
COPY edge/package.json edge/
COPY cloud/package.json cloud/
COPY sim/package.json sim/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run package -- cloud --out /out --with-node-modules

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GRIDWATCH_HTTP_HOST=0.0.0.0 \
    GRIDWATCH_HTTP_PORT=8080 \
    GRIDWATCH_MQTT_HOST=0.0.0.0 \
    GRIDWATCH_MQTT_PORT=1883 \
    GRIDWATCH_DATA_DIR=/var/lib/gridwatch
RUN groupadd --system --gid 10001 gridwatch \
 && useradd --system --uid 10001 --gid gridwatch --home-dir /var/lib/gridwatch --shell /usr/sbin/nologin gridwatch \
 && mkdir -p /var/lib/gridwatch \
 && chown gridwatch:gridwatch /var/lib/gridwatch
COPY --from=build /out /opt/gridwatch/cloud
USER gridwatch
WORKDIR /var/lib/gridwatch
VOLUME ["/var/lib/gridwatch"]
# 8080: API, console, socket.io, /metrics; 1883: embedded MQTT broker (unused with EMQX).
EXPOSE 8080 1883
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GRIDWATCH_HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/opt/gridwatch/cloud/dist/gridwatch-cloud.mjs"]
CMD ["serve"]
