import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** `npx vite build` → dist/, served by the API at `/`. `npx vite` proxies the API for development. */
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: {
    proxy: {
      '/v1': process.env.AUTOLAB_URL ?? 'http://127.0.0.1:8080',
      '/healthz': process.env.AUTOLAB_URL ?? 'http://127.0.0.1:8080',
    },
  },
});
