/** The entry points the image runs, by command (Dockerfile, docker-compose.yml, deploy/kubernetes, RGPU_K8S_IMAGE). */
export const ENTRY_POINTS = [
  'services/gateway/dist/main.js',
  'services/router/dist/main.js',
  'services/provisioner/dist/main.js',
  'services/model-server/dist/main.js',
  'services/standalone/dist/main.js',
] as const;
