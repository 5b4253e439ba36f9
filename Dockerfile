# Switchboard: multi-stage image. The build stage compiles the native modules (better-sqlite3, argon2) and
# typechecks; the runtime stage carries only production dependencies and the sources (run by tsx, no build step).
# Both stages use the same Node 24 image: the native modules are built for the Node that runs them.
#
#   docker build -t switchboard .
#   docker run -p 8080:8080 -p 2525:2525 -v switchboard-data:/data switchboard
#   docker run ... -e DATABASE_URL=mysql://switchboard:secret@db:3306/switchboard switchboard

FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY config ./config
COPY migrations ./migrations
COPY public ./public
COPY scripts ./scripts
COPY src ./src
COPY test ./test
COPY views ./views
RUN npm run typecheck \
 && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
# Zero-config SQLite on the /data volume; set DATABASE_URL=mysql://... for MySQL/MariaDB.
ENV DATABASE_URL=sqlite:/data/switchboard.sqlite
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/config ./config
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/public ./public
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/src ./src
COPY --from=build /app/views ./views
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080 2525
# /healthz answers while the process is alive; use /readyz (database reachable, migrations current) for routing.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["npm", "start"]
