# Command service image. Build from the repository root:
#   docker build -f Dockerfile.command -t cqrs-catalog/command:0.1.0 .
# Dockerfile.query is the same recipe with another entry point and port; keep them in step.

# Node 24, the active LTS line (supported until April 2028). Pin a digest (node:24-slim@sha256:...)
# for reproducible builds; the tag follows Node 24 patches. package.json's engines admit it.
ARG NODE_IMAGE=node:24-slim

# Production dependencies only, in a stage of their own: this layer depends on the two package files
# alone, so a code change reuses it (and its cached download) instead of reinstalling.
# --ignore-scripts: no dependency needs an install script (native parts ship prebuilt), and none
# gets to run code at build time.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# The compiler and the sources, which never reach the final image.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Runs plain `node` on compiled JavaScript. Layers from the least to the most often changed:
# dependencies (large, rare), package.json (needed for "type": "module"), compiled code (small, every
# release). Files stay root-owned, so the service cannot rewrite its own code.
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist/src ./dist/src
# Numeric, so Kubernetes' runAsNonRoot can verify it (the image's "node" user has uid 1000).
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/src/command-service.js"]
