/**
 * Web Push (shared/API.md, "Push notifications"): the service worker, and this device's push
 * subscription for the signed-in person.
 *
 * - The worker (public/sw.js) is registered at start-up. It shows the notifications and, on a
 *   click, focuses a Whisper window and asks it to open the chat (the `whisper:navigate` message
 *   handled below), or opens a new window there.
 * - Permission is only asked from a person's click (the "Turn on notifications" prompt in the
 *   sidebar, or the profile dialog), never on page load. After that, each login re-sends this
 *   device's subscription, so the server keeps it even when the browser rotated it.
 * - Logout removes the subscription on the server and in the browser.
 * Everything is behind feature checks: without service workers or the Push API nothing happens.
 */
import type { Router } from 'vue-router'
import { api } from '@/api'
import type { PushSubscriptionBody } from '@/api/types'
import { usePushStore } from '@/stores/push'

export const SERVICE_WORKER_URL = '/sw.js'
/** Waits on the browser's push service and the worker are bounded: a person is waiting on a button. */
const WAIT_MS = 15_000

export type PushPermission = NotificationPermission | 'unsupported'

/** Decodes base64url (RFC 4648 §5, padding optional), as VAPID public keys are written, to bytes. */
export function base64UrlToUint8Array(value: string): Uint8Array<ArrayBuffer> {
  const trimmed = value.trim().replace(/=+$/, '')
  if (!/^[A-Za-z0-9_-]*$/.test(trimmed) || trimmed.length % 4 === 1) throw new Error('Not a base64url string')
  const base64 = trimmed.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (trimmed.length % 4)) % 4)
  const binary = atob(base64)
  const bytes = new Uint8Array(new ArrayBuffer(binary.length))
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** True when this browser can receive Web Push: service workers, the Push API and notifications. */
export function pushSupported(): boolean {
  return (
    typeof navigator !== 'undefined' &&
    'serviceWorker' in navigator &&
    typeof window !== 'undefined' &&
    'PushManager' in window &&
    'Notification' in window
  )
}

export function currentPermission(): PushPermission {
  return pushSupported() ? Notification.permission : 'unsupported'
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer`)), WAIT_MS)
    promise.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      },
    )
  })
}

/**
 * Registers the service worker (at start-up) and lets it route this window to a chat when a
 * notification is clicked. Returns null where service workers are not available.
 */
export async function registerServiceWorker(router?: Router): Promise<ServiceWorkerRegistration | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return null
  if (router) {
    navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
      const data = e.data as { type?: unknown; url?: unknown } | null
      if (data?.type === 'whisper:navigate' && typeof data.url === 'string' && data.url.startsWith('/') && !data.url.startsWith('//')) {
        void router.push(data.url).catch(() => undefined)
      }
    })
  }
  try {
    return await navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' })
  } catch {
    // No worker (e.g. a private window that refuses it): the app works, without notifications.
    return null
  }
}

async function registration(): Promise<ServiceWorkerRegistration> {
  const existing = await navigator.serviceWorker.getRegistration('/')
  if (existing) return existing
  return withTimeout(navigator.serviceWorker.register(SERVICE_WORKER_URL, { scope: '/' }), 'The service worker')
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return true // the browser does not tell: keep the subscription
  const x = new Uint8Array(a)
  return x.length === b.length && x.every((v, i) => v === b[i])
}

/** The JSON the server takes: only the endpoint and the keys of `PushSubscription.toJSON()`. */
export function subscriptionBody(subscription: PushSubscription): PushSubscriptionBody {
  const json = subscription.toJSON()
  const p256dh = json.keys?.p256dh
  const auth = json.keys?.auth
  if (!json.endpoint || !p256dh || !auth) throw new Error('The browser gave an incomplete push subscription')
  return { endpoint: json.endpoint, keys: { p256dh, auth } }
}

/**
 * Subscribes this device with the server's VAPID key (re-subscribing if the key changed) and
 * sends the subscription to the server. Needs the permission to be granted already.
 */
export async function subscribe(): Promise<PushSubscription> {
  const reg = await registration()
  const { publicKey } = await api.pushPublicKey()
  const key = base64UrlToUint8Array(publicKey)
  let sub = await reg.pushManager.getSubscription()
  if (sub && !sameKey(sub.options?.applicationServerKey, key)) {
    await sub.unsubscribe().catch(() => false)
    sub = null
  }
  sub ??= await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), 'The push service')
  await api.addPushSubscription(subscriptionBody(sub))
  return sub
}

/** Removes this device's subscription from the server and the browser; true when there was one. */
export async function unsubscribe(): Promise<boolean> {
  if (!pushSupported()) return false
  const reg = await navigator.serviceWorker.getRegistration('/')
  const sub = await reg?.pushManager.getSubscription()
  if (!sub) return false
  try {
    await api.removePushSubscription(sub.endpoint)
  } finally {
    // Even when the server cannot be told, this browser stops receiving; the server drops the
    // subscription at the next push the push service refuses (404/410).
    await sub.unsubscribe().catch(() => false)
  }
  return true
}

/** Does this browser hold a push subscription right now? */
export async function hasSubscription(): Promise<boolean> {
  if (!pushSupported()) return false
  const reg = await navigator.serviceWorker.getRegistration('/')
  return !!(await reg?.pushManager.getSubscription())
}

/**
 * After login (and on every start with a session): when the person already allowed
 * notifications, make sure the server has this device's current subscription. Never prompts.
 */
export async function enablePushAfterLogin(): Promise<void> {
  await usePushStore().resume()
}

/** Before a person's own logout, while the access token still works. */
export async function disablePushBeforeLogout(): Promise<void> {
  await usePushStore().forget()
}
