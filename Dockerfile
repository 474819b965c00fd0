# redshift-ops: one image, three roles (bot, worker, console). `--role` picks one; default runs bot + worker.
FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json manifest.yml ./
COPY src ./src
COPY schemas ./schemas
USER node
EXPOSE 3000
# tsx runs the TypeScript sources directly (no build step to drift from the tested code).
ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]
CMD []
