# Countersign's image: one image, two production processes (`countersign api`, `countersign worker`), on Node 24 LTS.
# The build stage compiles dist/ (`npm run build`: the CLI and services bundled with esbuild, the workflow code
# bundled once for the workers); the runtime stage holds dist/, production dependencies and the example config only:
# no TypeScript sources, no tsx.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY slack ./slack
COPY examples ./examples
RUN npm run build && npm prune --omit=dev && npm cache clean --force

FROM node:24-bookworm-slim
# MALLOC_ARENA_MAX: glibc gives the process's many threads (libuv, V8, the Temporal SDK core) up to 8 malloc arenas
# per core, whose fragments stay resident; two keep a worker's memory flat as requests park (docs/performance.md).
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    HOST=0.0.0.0 \
    PORT=8080 \
    COUNTERSIGN_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY examples/countersign.yaml ./examples/countersign.yaml
COPY schema ./schema
RUN mkdir -p /data /app/config && cp examples/countersign.yaml /app/config/countersign.yaml && chown -R node:node /data
ENV COUNTERSIGN_CONFIG=/app/config/countersign.yaml
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/countersign.js"]
CMD ["api"]
