# redshift-ops: one image, every role. `--role bot|worker` picks one (default: both in one process); the sandbox runs
# from the same image (`node dist/sandbox/main.js`, see docker-compose.yml). Node 22 is the documented runtime.
#
#   build: compile TypeScript to dist/ (the image runs JavaScript: no tsx, no TypeScript at run time)
#   deps:  production dependencies only
#   final: dist/ + production node_modules + schemas/, as the unprivileged `node` user, with a HEALTHCHECK
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json manifest.yml ./
# jobs rewrite a table's file after changing it: schemas/ belongs to the runtime user (docker-compose.yml shares it
# between the bot and the workers as a volume)
COPY --chown=node:node schemas ./schemas
USER node
EXPOSE 3000
# every role serves GET /healthz on PORT (the bot on its Slack receiver, a worker on its own small server)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM from `docker stop` reaches node directly (exec form, no shell): running steps finish, then it exits
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--enable-source-maps", "dist/main.js"]
CMD []
