// Runs the real public/sw.js with a fake service-worker global in place of `self`: the payload
// becomes the notification, and a click focuses an open window (routing it to the chat) or opens one.
import { describe, expect, it, vi } from 'vitest'
import source from '../public/sw.js?raw'

interface FakeClient {
  url: string
  focused: boolean
  visibilityState: string
  postMessage: ReturnType<typeof vi.fn>
  focus: ReturnType<typeof vi.fn>
}

function client(url: string, over: Partial<FakeClient> = {}): FakeClient {
  const c: FakeClient = { url, focused: false, visibilityState: 'hidden', postMessage: vi.fn(), focus: vi.fn(), ...over }
  c.focus.mockResolvedValue(c)
  return c
}

function loadWorker(windows: FakeClient[] = []) {
  const listeners: Record<string, (e: unknown) => void> = {}
  const self = {
    location: new URL('https://chat.example/sw.js'),
    addEventListener: (type: string, fn: (e: unknown) => void) => (listeners[type] = fn),
    skipWaiting: vi.fn(),
    registration: { showNotification: vi.fn(async () => undefined) },
    clients: {
      matchAll: vi.fn(async () => windows),
      openWindow: vi.fn(async () => null),
      claim: vi.fn(async () => undefined),
    },
  }
  // The worker script sees only our `self`; its top-level function is handed back for direct tests.
  const run = new Function('self', `${source}\nreturn { notificationFromPayload }`) as (s: unknown) => {
    notificationFromPayload: (p: unknown) => { title: string; options: Record<string, unknown> }
  }
  const { notificationFromPayload } = run(self)

  /** Dispatches an event and waits for what it passed to waitUntil. */
  async function fire(type: string, event: Record<string, unknown>) {
    const waits: Promise<unknown>[] = []
    listeners[type]!({ ...event, waitUntil: (p: Promise<unknown>) => waits.push(p) })
    await Promise.all(waits)
  }
  return { self, listeners, fire, notificationFromPayload }
}

const payload = { chatId: 'c-42', messageId: 'm-7', seq: 12, title: 'Alice', body: 'preview text', url: '/chats/c-42' }

describe('service worker: payload to notification', () => {
  it('uses title and body, tags by chat so one chat collapses, and keeps the url', () => {
    const { notificationFromPayload } = loadWorker()
    const n = notificationFromPayload(payload)
    expect(n.title).toBe('Alice')
    expect(n.options.body).toBe('preview text')
    expect(n.options.tag).toBe('c-42')
    expect(n.options.renotify).toBe(true)
    expect(n.options.data).toEqual({ url: '/chats/c-42', chatId: 'c-42', messageId: 'm-7', seq: 12 })
  })

  it('never opens another origin: a foreign or missing url becomes the chat path', () => {
    const { notificationFromPayload } = loadWorker()
    for (const url of ['https://evil.example/x', '//evil.example/x', 'javascript:alert(1)', '/\\evil.example', undefined]) {
      expect((notificationFromPayload({ ...payload, url }).options.data as { url: string }).url).toBe('/chats/c-42')
    }
    expect((notificationFromPayload({ title: 'x', url: 'https://evil.example' }).options.data as { url: string }).url).toBe('/')
  })

  it('has defaults for an empty or odd payload and no tag without a chat', () => {
    const { notificationFromPayload } = loadWorker()
    for (const p of [null, undefined, 'text', 42, {}, { title: '  ', body: 7 }]) {
      const n = notificationFromPayload(p)
      expect(n.title).toBe('Whisper')
      expect(n.options.body).toBe('New message')
      expect(n.options.tag).toBeUndefined()
      expect(n.options.renotify).toBeUndefined()
    }
  })

  it('shows the notification on push, also when the data is not JSON', async () => {
    const w = loadWorker()
    await w.fire('push', { data: { json: () => payload, text: () => JSON.stringify(payload) } })
    expect(w.self.registration.showNotification).toHaveBeenCalledWith('Alice', expect.objectContaining({ body: 'preview text', tag: 'c-42' }))

    await w.fire('push', { data: { json: () => { throw new SyntaxError('bad') }, text: () => 'plain words' } })
    expect(w.self.registration.showNotification).toHaveBeenLastCalledWith('Whisper', expect.objectContaining({ body: 'plain words' }))

    await w.fire('push', { data: null })
    expect(w.self.registration.showNotification).toHaveBeenLastCalledWith('Whisper', expect.objectContaining({ body: 'New message' }))
  })
})

describe('service worker: notification click', () => {
  function clickEvent(data: unknown) {
    return { notification: { data, close: vi.fn() } }
  }

  it('focuses the focused Whisper window and asks it to open the chat', async () => {
    const other = client('https://chat.example/chats/old')
    const focused = client('https://chat.example/', { focused: true, visibilityState: 'visible' })
    const foreign = client('https://elsewhere.example/', { focused: true })
    const w = loadWorker([foreign, other, focused])
    const event = clickEvent({ url: '/chats/c-42', chatId: 'c-42' })
    await w.fire('notificationclick', event)
    expect(event.notification.close).toHaveBeenCalled()
    expect(focused.postMessage).toHaveBeenCalledWith({ type: 'whisper:navigate', url: '/chats/c-42' })
    expect(focused.focus).toHaveBeenCalled()
    expect(other.focus).not.toHaveBeenCalled()
    expect(foreign.postMessage).not.toHaveBeenCalled()
    expect(w.self.clients.openWindow).not.toHaveBeenCalled()
  })

  it('uses any Whisper window when none is focused', async () => {
    const background = client('https://chat.example/chats/x')
    const w = loadWorker([background])
    await w.fire('notificationclick', clickEvent({ url: '/chats/c-42' }))
    expect(background.postMessage).toHaveBeenCalledWith({ type: 'whisper:navigate', url: '/chats/c-42' })
    expect(background.focus).toHaveBeenCalled()
  })

  it('opens a new window at the chat when no Whisper window is open', async () => {
    const w = loadWorker([client('https://elsewhere.example/')])
    await w.fire('notificationclick', clickEvent({ url: 'https://evil.example/', chatId: 'c 1' }))
    expect(w.self.clients.openWindow).toHaveBeenCalledWith('https://chat.example/chats/c%201')
  })
})
