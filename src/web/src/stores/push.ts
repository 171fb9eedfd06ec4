import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { currentPermission, hasSubscription, pushSupported, subscribe, unsubscribe, type PushPermission } from '@/push'

/** "Not now" on the notifications prompt is remembered on this device. */
export const PUSH_DISMISSED_KEY = 'whisper.push.dismissed'

/** Notifications on this device: what the browser allows, whether we are subscribed, and the prompt. */
export const usePushStore = defineStore('push', () => {
  const supported = ref(pushSupported())
  const permission = ref<PushPermission>(currentPermission())
  const subscribed = ref(false)
  const busy = ref(false)
  const error = ref<string | null>(null)
  const dismissed = ref(readDismissed())

  /** The prompt shows where it can help: supported, not yet decided in the browser, not dismissed, not on. */
  const shouldPrompt = computed(() => supported.value && permission.value === 'default' && !dismissed.value && !subscribed.value)

  function readDismissed(): boolean {
    try {
      return localStorage.getItem(PUSH_DISMISSED_KEY) === '1'
    } catch {
      return false
    }
  }

  function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
  }

  /** Called after login: re-sends an existing permission's subscription; never asks. */
  async function resume(): Promise<void> {
    supported.value = pushSupported()
    permission.value = currentPermission()
    if (permission.value !== 'granted') {
      subscribed.value = false
      return
    }
    try {
      await subscribe()
      subscribed.value = true
      error.value = null
    } catch (e) {
      subscribed.value = await hasSubscription().catch(() => false)
      error.value = message(e)
    }
  }

  /** From a click: asks the browser for permission, then subscribes this device. */
  async function enable(): Promise<boolean> {
    if (!supported.value || busy.value) return false
    busy.value = true
    error.value = null
    try {
      permission.value = await Notification.requestPermission()
      if (permission.value !== 'granted') {
        error.value = permission.value === 'denied' ? 'Notifications are blocked in the browser settings.' : null
        return false
      }
      await subscribe()
      subscribed.value = true
      return true
    } catch (e) {
      error.value = message(e)
      return false
    } finally {
      busy.value = false
    }
  }

  /** From a click in the profile: stops notifications on this device (the permission stays). */
  async function disable(): Promise<void> {
    if (busy.value) return
    busy.value = true
    error.value = null
    try {
      await unsubscribe()
      subscribed.value = false
    } catch (e) {
      error.value = message(e)
      subscribed.value = await hasSubscription().catch(() => false)
    } finally {
      busy.value = false
    }
  }

  /** "Not now": hide the prompt on this device; the profile dialog still offers it. */
  function dismiss() {
    dismissed.value = true
    try {
      localStorage.setItem(PUSH_DISMISSED_KEY, '1')
    } catch {
      // Private mode without storage: hidden for this page only.
    }
  }

  /** Before logout: the next person on this browser must not get this person's messages. */
  async function forget(): Promise<void> {
    try {
      await unsubscribe()
    } catch {
      // Logging out must not fail on this; the subscription was removed from the browser anyway.
    }
    subscribed.value = false
    error.value = null
  }

  return { supported, permission, subscribed, busy, error, dismissed, shouldPrompt, resume, enable, disable, dismiss, forget }
})
