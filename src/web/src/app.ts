// Start-up and shut-down of a logged-in session: the pieces that span several stores.
import { watch } from 'vue'
import type { Router } from 'vue-router'
import { startHub, stopHub } from '@/realtime/hub'
import { useChatsStore } from '@/stores/chats'
import { useMessagesStore } from '@/stores/messages'
import { usePresenceStore } from '@/stores/presence'
import { useSessionStore } from '@/stores/session'
import { disablePushBeforeLogout, enablePushAfterLogin } from '@/push'

/** Called once after the session is restored: starts and stops the live parts as the login state changes. */
export function watchSession(router: Router) {
  const session = useSessionStore()
  watch(
    () => session.userId,
    async (userId, previous) => {
      if (previous) {
        // Logged out here, in another tab, or the session was revoked.
        await stopHub()
        useMessagesStore().reset(false)
        useChatsStore().reset()
        usePresenceStore().reset()
        if (!router.currentRoute.value.meta.public) await router.replace({ name: 'login' })
      }
      if (userId) {
        useMessagesStore().restoreOutbox()
        void useChatsStore().load().catch(() => undefined)
        void startHub()
        void enablePushAfterLogin()
      }
    },
    { immediate: true },
  )
}

/** Logout chosen by the person: also forgets the unsent outbox on this device. */
export async function logout() {
  const session = useSessionStore()
  await disablePushBeforeLogout()
  await stopHub()
  useMessagesStore().reset(true)
  await session.logout()
}
