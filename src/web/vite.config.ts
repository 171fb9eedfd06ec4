/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The dev server forwards the API and the hub to a locally running Whisper.Server
// (`dotnet run` listens on 5080), so the browser sees one origin as in production.
const server = process.env.WHISPER_SERVER ?? 'http://localhost:5080'

export default defineConfig({
  base: '/',
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    // The server serves the built client from its static files; that folder is build output only.
    // Web.targets passes the importing project's wwwroot (the same folder for Whisper.Server).
    outDir: process.env.WHISPER_WEB_OUT_DIR || '../Whisper.Server/wwwroot',
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: true },
      '/hubs': { target: server, changeOrigin: true, ws: true },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
    // Formatting tests depend on the local time zone; pin it so they pass on any machine.
    env: { TZ: 'UTC' },
  },
})
