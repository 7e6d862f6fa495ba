// Stands in for node: built-ins in the browser build (see vite.config.ts).
export {};
