# syntax=docker/dockerfile:1
#
# One image for every process of the platform; the command chooses which one runs:
#   gateway      node services/gateway/dist/main.js        (the default CMD; PORT 8080)
#   router       node services/router/dist/main.js         (ROUTER_PORT 8081)
#   provisioner  node services/provisioner/dist/main.js    (PROVISIONER_PORT 8082)
#   model server node services/model-server/dist/main.js   (one replica; what RGPU_K8S_IMAGE runs in pods)
#   standalone   node services/standalone/dist/main.js     (`npm start` in a container)
#
#   docker build -t remotegpu .                      # CPU image (the last stage, `runtime`)
#   docker build --target gpu -t remotegpu:gpu .     # CUDA 12 + cuDNN 9, onnxruntime's CUDA provider installed
#
# Nothing secret is baked in: RGPU_JWT_SECRET, RGPU_ARTIFACT_SECRET and store credentials come from the environment
# at run time (docker-compose .env, a Kubernetes Secret). Processes run as uid 1000, never root; the code is owned
# by root and read-only to them; they write only under RGPU_DATA_DIR (/data).

ARG NODE_IMAGE=node:20-bookworm-slim
ARG CUDA_IMAGE=nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04

# ---- build: every dependency, the TypeScript build, then production dependencies only -------------------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source where no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# npm 10 (node:20 images) runs install scripts regardless of package.json's allowScripts: onnxruntime-node's would
# download CUDA libraries into the CPU image. Skipped here; the gpu target runs it on purpose.
ENV ONNXRUNTIME_NODE_INSTALL=skip
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/auth/package.json packages/auth/
COPY packages/bus/package.json packages/bus/
# The CLI's bin file too: npm ci links workspace bins and would find no target otherwise.
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin packages/cli/bin
COPY packages/console/package.json packages/console/
COPY packages/core/package.json packages/core/
COPY packages/http/package.json packages/http/
COPY packages/process/package.json packages/process/
COPY packages/runtime/package.json packages/runtime/
COPY packages/store/package.json packages/store/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/model-server/package.json services/model-server/
COPY services/provisioner/package.json services/provisioner/
COPY services/router/package.json services/router/
COPY services/standalone/package.json services/standalone/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY packages packages
COPY services services
COPY scripts/probe.mjs scripts/
# /out is what the runtime stages copy: package manifests, compiled JavaScript, production node_modules.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /out/scripts \
 && cp -a package.json node_modules /out/ \
 && cp scripts/probe.mjs /out/scripts/ \
 && for dir in packages/* services/*; do \
      mkdir -p "/out/$dir" && cp -a "$dir/package.json" "$dir/dist" "/out/$dir/" \
      && if [ -d "$dir/node_modules" ]; then cp -a "$dir/node_modules" "/out/$dir/"; fi; \
    done

# ---- node: the Node.js runtime the gpu image borrows --------------------------------------------------------------
FROM ${NODE_IMAGE} AS node

# ---- gpu: CUDA 12 + cuDNN 9 with onnxruntime-node's CUDA execution provider (DESIGN §6) -----------------------------
# For GPU replicas (RGPU_K8S_IMAGE on GPU nodes) and a provisioner whose local runtime has GPUs (docker-compose's gpu
# profile). Ubuntu 24.04's glibc (2.39) runs the native modules compiled on Debian 12 (2.36).
FROM ${CUDA_IMAGE} AS gpu
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production HOST=0.0.0.0 RGPU_DATA_DIR=/data
WORKDIR /app
COPY --from=build /out/ ./
# onnxruntime-node's own install script, at build time where the internet is reachable: it fetches the CUDA provider
# libraries (libonnxruntime_providers_cuda.so and friends) that its npm package does not ship.
RUN cd node_modules/onnxruntime-node \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node script/install.js \
 && test -f bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
EXPOSE 8080 8081 8082
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "services/gateway/dist/main.js"]

# ---- runtime (default target): the CPU image --------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: signals reach node, and replicas orphaned by a crash (local runtime) are reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 RGPU_DATA_DIR=/data
WORKDIR /app
COPY --from=build /out/ ./
RUN mkdir -p /data && chown 1000:1000 /data
# Numeric, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 1000:1000
EXPOSE 8080 8081 8082
# Each process has its own port and probe: docker-compose.yml and deploy/kubernetes set the checks per process.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "services/gateway/dist/main.js"]
