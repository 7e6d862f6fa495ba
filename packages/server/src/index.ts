export type { Bootstrap } from "./bootstrap.ts";
export { DataDirError } from "./data-dir.ts";
export { SERVER_DEFAULTS, type ServerOptions } from "./server-options.ts";
export { type GantryServer, startServer, VERSION } from "./start-server.ts";
export { type CopyReport, copySqliteToPostgres } from "./store/copy-sqlite-to-postgres.ts";
export type { Store } from "./store/store.ts";
