# The bot as a container: the same steps .ci/run proves on every change (npm ci, npm run build,
# a production install, then node dist/src/main.js against PostgreSQL probed on /readyz).

# --- build: every dependency, then the TypeScript compiled to dist/ ---
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
COPY scripts ./scripts
RUN npm run build

# --- runtime: production dependencies only, the build, and the files the bot reads ---
FROM node:26-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY reference ./reference
COPY examples ./examples
COPY manifest ./manifest
COPY prompts ./prompts
COPY LICENSE README.md ./
# Not root; the embedded database (only without DATABASE_URL) would live in /app/data.
RUN mkdir -p /app/data /app/exports && chown node:node /app/data /app/exports
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1, so SIGTERM reaches the bot, which stops gracefully within ISMS_STOP_TIMEOUT_MS.
CMD ["node", "dist/src/main.js"]
