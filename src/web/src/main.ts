import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { watchSession } from './app'
import { useSessionStore } from './stores/session'
import { registerServiceWorker } from './push'
import './styles.css'

async function start() {
  const app = createApp(App)
  app.use(createPinia())
  // Restore before the router runs its first guard, so a reload stays on the same chat.
  await useSessionStore().restore()
  app.use(router)
  watchSession(router)
  app.mount('#app')
  // The Web Push worker; it never asks for anything by itself (see src/push/index.ts).
  void registerServiceWorker(router)
}

void start()
