// "react-dom/client" for the import map; built in the same esbuild run as vendor/react.ts
// with code splitting, so both share one React chunk.
export { createRoot, hydrateRoot } from 'react-dom/client';
