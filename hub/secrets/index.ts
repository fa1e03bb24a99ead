// The hub's secret store and its admin routes.
export { SecretStore, parseSecretHex, SECRET_NAME, MAX_SECRET_BYTES } from './secret-store.ts';
export { secretsRoutes, type SecretsRouteDeps } from './routes.ts';
