// Web Push in the page: base64url keys, and the store's subscribe / unsubscribe flows against a
// fake browser (service worker registration, push manager, Notification) and a fake server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { base64UrlToUint8Array, disablePushBeforeLogout, enablePushAfterLogin, pushSupported } from '@/push'
import { PUSH_DISMISSED_KEY, usePushStore } from '@/stores/push'
import { jsonResponse, mockFetch } from './helpers'

describe('base64UrlToUint8Array', () => {
  it('decodes base64url with and without padding', () => {
    expect(Array.from(base64UrlToUint8Array('AQID'))).toEqual([1, 2, 3])
    expect(Array.from(base64UrlToUint8Array('-_8'))).toEqual([0xfb, 0xff])
    expect(Array.from(base64UrlToUint8Array('-_8='))).toEqual([0xfb, 0xff])
    expect(Array.from(base64UrlToUint8Array('AA'))).toEqual([0])
    expect(base64UrlToUint8Array('')).toHaveLength(0)
  })

  it('decodes a VAPID public key to the 65-byte uncompressed P-256 point', () => {
    const bytes = new Uint8Array(65).map((_, i) => (i * 37 + 4) & 0xff)
    bytes[0] = 4
    const key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    const decoded = base64UrlToUint8Array(key)
    expect(decoded).toBeInstanceOf(Uint8Array)
    expect(decoded.buffer).toBeInstanceOf(ArrayBuffer)
    expect(Array.from(decoded)).toEqual(Array.from(bytes))
  })

  it('refuses what is not base64url', () => {
    for (const bad of ['a+b/', 'ab$c', 'A', 'abcde']) expect(() => base64UrlToUint8Array(bad)).toThrow()
  })
})

const KEY = 'BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A'

/** A browser with service workers, the Push API and notifications, all fake. */
function fakeBrowser(permission: NotificationPermission, answer: NotificationPermission = permission) {
  let current: PushSubscription | null = null
  const subscribeCalls: PushSubscriptionOptionsInit[] = []
  const makeSubscription = (key: BufferSource | string | null | undefined): PushSubscription => {
    const sub = {
      endpoint: 'https://push.example/send/abc',
      options: { applicationServerKey: (key as Uint8Array).buffer, userVisibleOnly: true },
      toJSON: () => ({ endpoint: 'https://push.example/send/abc', expirationTime: null, keys: { p256dh: 'P256', auth: 'AUTH' } }),
      unsubscribe: vi.fn(async () => {
        current = null
        return true
      }),
    }
    return sub as unknown as PushSubscription
  }
  const pushManager = {
    getSubscription: vi.fn(async () => current),
    subscribe: vi.fn(async (o: PushSubscriptionOptionsInit) => {
      subscribeCalls.push(o)
      current = makeSubscription(o.applicationServerKey)
      return current
    }),
  }
  const registration = { pushManager }
  const serviceWorker = {
    register: vi.fn(async () => registration),
    getRegistration: vi.fn(async () => registration),
    addEventListener: vi.fn(),
  }
  Object.defineProperty(navigator, 'serviceWorker', { value: serviceWorker, configurable: true })
  vi.stubGlobal('PushManager', function PushManager() {})
  const notification = Object.assign(function Notification() {}, {
    permission,
    requestPermission: vi.fn(async () => {
      notification.permission = answer
      return answer
    }),
  })
  vi.stubGlobal('Notification', notification)
  return { pushManager, serviceWorker, notification, subscribeCalls, current: () => current }
}

function fakeServer() {
  return mockFetch((url, init) => {
    if (url === '/api/push/public-key') return jsonResponse(200, { publicKey: KEY })
    if (url === '/api/push/subscriptions' && init.method === 'POST') return jsonResponse(201)
    if (url === '/api/push/subscriptions' && init.method === 'DELETE') return new Response(null, { status: 204 })
    return jsonResponse(404, { title: 'Not Found' })
  })
}

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
})
afterEach(() => {
  vi.unstubAllGlobals()
  delete (navigator as unknown as Record<string, unknown>).serviceWorker
})

describe('push store', () => {
  it('does nothing where the browser has no Push API', async () => {
    const { calls } = fakeServer()
    expect(pushSupported()).toBe(false)
    const push = usePushStore()
    expect(push.supported).toBe(false)
    expect(push.shouldPrompt).toBe(false)
    expect(await push.enable()).toBe(false)
    await enablePushAfterLogin()
    await disablePushBeforeLogout()
    expect(calls).toHaveLength(0)
  })

  it('offers the prompt, and never asks for permission by itself after login', async () => {
    const b = fakeBrowser('default')
    const { calls } = fakeServer()
    const push = usePushStore()
    expect(push.shouldPrompt).toBe(true)
    await enablePushAfterLogin()
    expect(b.notification.requestPermission).not.toHaveBeenCalled()
    expect(b.pushManager.subscribe).not.toHaveBeenCalled()
    expect(calls).toHaveLength(0)
  })

  it('on a click asks permission, subscribes with the server key and posts the subscription', async () => {
    const b = fakeBrowser('default', 'granted')
    const { calls } = fakeServer()
    const push = usePushStore()
    expect(await push.enable()).toBe(true)
    expect(b.notification.requestPermission).toHaveBeenCalledTimes(1)
    expect(b.subscribeCalls).toHaveLength(1)
    expect(b.subscribeCalls[0]!.userVisibleOnly).toBe(true)
    expect(Array.from(b.subscribeCalls[0]!.applicationServerKey as Uint8Array)).toEqual(Array.from(base64UrlToUint8Array(KEY)))
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toBe('/api/push/subscriptions')
    expect(post.body).toEqual({ endpoint: 'https://push.example/send/abc', keys: { p256dh: 'P256', auth: 'AUTH' } })
    expect(push.subscribed).toBe(true)
    expect(push.shouldPrompt).toBe(false)
  })

  it('stops at a refusal and says so', async () => {
    const b = fakeBrowser('default', 'denied')
    const { calls } = fakeServer()
    const push = usePushStore()
    expect(await push.enable()).toBe(false)
    expect(b.pushManager.subscribe).not.toHaveBeenCalled()
    expect(calls).toHaveLength(0)
    expect(push.permission).toBe('denied')
    expect(push.error).toMatch(/blocked/)
    expect(push.shouldPrompt).toBe(false)
  })

  it('re-sends an existing subscription after login when permission was given before', async () => {
    const b = fakeBrowser('granted')
    const { calls } = fakeServer()
    await usePushStore().enable()
    calls.length = 0
    setActivePinia(createPinia())
    await enablePushAfterLogin()
    expect(b.pushManager.subscribe).toHaveBeenCalledTimes(1) // the existing one was reused
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1)
    expect(usePushStore().subscribed).toBe(true)
  })

  it('on logout deletes the subscription on the server and in the browser', async () => {
    const b = fakeBrowser('granted')
    const { calls } = fakeServer()
    await usePushStore().enable()
    const sub = b.current()!
    await disablePushBeforeLogout()
    const del = calls.find((c) => c.method === 'DELETE')!
    expect(del.url).toBe('/api/push/subscriptions')
    expect(del.body).toEqual({ endpoint: 'https://push.example/send/abc' })
    expect(sub.unsubscribe).toHaveBeenCalled()
    expect(b.current()).toBeNull()
    expect(usePushStore().subscribed).toBe(false)
  })

  it('logout still succeeds when the server cannot be reached, and the browser stops receiving', async () => {
    const b = fakeBrowser('granted')
    fakeServer()
    await usePushStore().enable()
    const sub = b.current()!
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(disablePushBeforeLogout()).resolves.toBeUndefined()
    expect(sub.unsubscribe).toHaveBeenCalled()
  })

  it('remembers "Not now"', () => {
    fakeBrowser('default')
    const push = usePushStore()
    push.dismiss()
    expect(push.shouldPrompt).toBe(false)
    expect(localStorage.getItem(PUSH_DISMISSED_KEY)).toBe('1')
    setActivePinia(createPinia())
    expect(usePushStore().shouldPrompt).toBe(false)
  })
})
