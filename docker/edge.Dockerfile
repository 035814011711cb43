# syntax=docker/dockerfile:1
# GridWatch edge agent. Multi-arch: `docker buildx build --platform linux/arm64,linux/arm/v7,linux/amd64
# -f docker/edge.Dockerfile .` — each platform's build stage compiles the native modules
# (better-sqlite3, serialport) for itself; the final stage has no compiler.
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
RUN npm run package -- edge --out /out --with-node-modules

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# Same heap sizes as the systemd unit (see docs/BENCHMARKS.md, edge-pipeline and edge-vs-nodered).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=1 --max-old-space-size=128"
RUN groupadd --system --gid 10001 gridwatch \
 && useradd --system --uid 10001 --gid gridwatch --groups dialout --home-dir /var/lib/gridwatch --shell /usr/sbin/nologin gridwatch \
 && mkdir -p /var/lib/gridwatch /etc/gridwatch \
 && chown gridwatch:gridwatch /var/lib/gridwatch
COPY --from=build /out /opt/gridwatch/edge
COPY deploy/edge/edge.yaml.example /etc/gridwatch/edge.yaml
USER gridwatch
WORKDIR /var/lib/gridwatch
VOLUME ["/var/lib/gridwatch"]
# 1884: local device broker; 9464: health and Prometheus metrics.
EXPOSE 1884 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GRIDWATCH_HEALTH_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/opt/gridwatch/edge/dist/gridwatch-edge.mjs"]
CMD ["run", "--config", "/etc/gridwatch/edge.yaml"]
