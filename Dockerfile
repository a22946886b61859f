# Countersign's image: one image, two production processes (`countersign api`, `countersign worker`).
# TypeScript runs as is through tsx (a runtime dependency), so there is no separate build output to keep in step.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    COUNTERSIGN_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY slack ./slack
COPY examples ./examples
COPY schema ./schema
RUN mkdir -p /data /app/config && cp examples/countersign.yaml /app/config/countersign.yaml && chown -R node:node /data
ENV COUNTERSIGN_CONFIG=/app/config/countersign.yaml
USER node
EXPOSE 8080
ENTRYPOINT ["node", "bin/countersign.js"]
CMD ["api"]
