import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@/api/http'
import type { Message, SendMessageBody } from '@/api/types'
import { useChatsStore } from '@/stores/chats'
import { useMessagesStore } from '@/stores/messages'
import { useSessionStore } from '@/stores/session'
import { ME, chat, jsonResponse, member, mockFetch, msg } from './helpers'

// The hub is the transport; here it is a fake whose answers each test decides.
const hub = vi.hoisted(() => ({
  connected: true,
  isConnected: () => hub.connected,
  sendMessage: vi.fn<(chatId: string, body: SendMessageBody) => Promise<Message>>(),
  markDelivered: vi.fn(async (_chatId: string, _seq: number) => {}),
  markRead: vi.fn(async (_chatId: string, _seq: number) => {}),
  sendTyping: vi.fn(),
}))
vi.mock('@/realtime/hub', () => hub)

/** What the server would answer to a send: the stored message. */
function stored(chatId: string, body: SendMessageBody, seq: number): Message {
  return msg(seq, { chatId, senderId: ME.id, content: body.content, clientMessageId: body.clientMessageId, id: `srv-${seq}` })
}

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  useSessionStore().$patch({ user: ME, refreshToken: 'r', accessToken: 'a', expiresAt: Date.now() + 600_000 })
  useChatsStore().upsert(chat('c1', { members: [member(ME.id), member('u-other')] }))
  hub.connected = true
  hub.sendMessage.mockReset()
  hub.markDelivered.mockClear()
  hub.markRead.mockClear()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('messages: loading and merging', () => {
  it('loads the newest page, then older pages with before=seq', async () => {
    const { calls } = mockFetch((url) =>
      url.includes('before=')
        ? jsonResponse(200, { items: [msg(1), msg(2)], hasMore: false })
        : jsonResponse(200, { items: [msg(3), msg(4)], hasMore: true }),
    )
    const s = useMessagesStore()
    await s.load('c1')
    expect(await s.loadOlder('c1')).toBe(2)
    expect(calls.map((c) => c.url)).toEqual(['/api/chats/c1/messages?limit=50', '/api/chats/c1/messages?before=3&limit=50'])
    expect(s.byChat.c1!.items.map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect(s.byChat.c1!.hasMoreBefore).toBe(false)
  })

  it('merges live messages without duplicates', async () => {
    mockFetch(() => jsonResponse(200, { items: [msg(1)], hasMore: false }))
    const s = useMessagesStore()
    await s.load('c1')
    await s.onMessageCreated(msg(2))
    await s.onMessageCreated(msg(2))
    expect(s.byChat.c1!.items.map((m) => m.id)).toEqual(['m1', 'm2'])
  })

  it('fetches what it missed with after=lastSeq when a seq gap shows', async () => {
    const { calls } = mockFetch((url) =>
      url.includes('after=1')
        ? jsonResponse(200, { items: [msg(2), msg(3), msg(4)], hasMore: false })
        : jsonResponse(200, { items: [msg(1)], hasMore: false }),
    )
    const s = useMessagesStore()
    await s.load('c1')
    await s.onMessageCreated(msg(4))
    expect(calls[1]!.url).toBe('/api/chats/c1/messages?after=1&limit=100')
    expect(s.byChat.c1!.items.map((m) => m.seq)).toEqual([1, 2, 3, 4])
  })

  it('catches up every open chat after a reconnect, page by page', async () => {
    let page = 0
    const { calls } = mockFetch((url) => {
      if (!url.includes('after=')) return jsonResponse(200, { items: [msg(1)], hasMore: false })
      page++
      return page === 1
        ? jsonResponse(200, { items: [msg(2), msg(3)], hasMore: true })
        : jsonResponse(200, { items: [msg(4)], hasMore: false })
    })
    const s = useMessagesStore()
    await s.load('c1')
    await s.resync()
    expect(calls.slice(1).map((c) => c.url)).toEqual([
      '/api/chats/c1/messages?after=1&limit=100',
      '/api/chats/c1/messages?after=3&limit=100',
    ])
    expect(s.byChat.c1!.items.map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect(useChatsStore().byId.c1!.lastSeq).toBe(4)
  })
})

describe('messages: receipts missed while disconnected', () => {
  it('asks the server about my newest unread message after a reconnect and shows its ticks', async () => {
    const mine = msg(2, { senderId: ME.id, id: 'm2', status: 'sent' })
    const { calls } = mockFetch((url) => {
      if (url === '/api/chats/c1/messages?limit=50') return jsonResponse(200, { items: [msg(1), mine], hasMore: false })
      if (url.startsWith('/api/chats/c1/messages?after=2')) return jsonResponse(200, { items: [], hasMore: false })
      if (url === '/api/messages/m2/status')
        return jsonResponse(200, {
          messageId: 'm2',
          status: 'read',
          recipients: [{ userId: 'u-other', status: 'read', deliveredAt: null, readAt: null }],
        })
      return jsonResponse(404, {})
    })
    const s = useMessagesStore()
    await s.load('c1')
    expect(s.statusOf(s.chatState('c1').items[1]!)).toBe('sent')

    await s.resync()
    expect(calls.map((c) => c.url)).toContain('/api/messages/m2/status')
    expect(s.statusOf(s.chatState('c1').items[1]!)).toBe('read')

    // Once read by everyone there is nothing left to ask.
    calls.length = 0
    await s.resync()
    expect(calls.map((c) => c.url)).not.toContain('/api/messages/m2/status')
  })
})

describe('messages: the outbox', () => {
  it('sends with a clientMessageId and replaces the pending copy with the stored message', async () => {
    mockFetch(() => jsonResponse(200, { items: [], hasMore: false }))
    hub.sendMessage.mockImplementation(async (chatId, body) => stored(chatId, body, 1))
    const s = useMessagesStore()
    await s.load('c1')
    const item = s.send('c1', { content: 'hello' })
    expect(item.clientMessageId).toMatch(/^[0-9a-f-]{36}$/)
    await vi.waitFor(() => expect(s.outbox).toHaveLength(0))
    expect(hub.sendMessage).toHaveBeenCalledWith('c1', {
      clientMessageId: item.clientMessageId,
      type: 'text',
      content: 'hello',
      fileId: null,
      replyToId: null,
    })
    expect(s.byChat.c1!.items.map((m) => m.content)).toEqual(['hello'])
    expect(useChatsStore().byId.c1!.lastMessage!.content).toBe('hello')
  })

  it('retries after a network failure with the same clientMessageId, and keeps order', async () => {
    vi.useFakeTimers()
    mockFetch(() => jsonResponse(200, { items: [], hasMore: false }))
    let fail = true
    let seq = 0
    hub.sendMessage.mockImplementation(async (chatId, body) => {
      if (fail) throw new ApiError(0, { title: 'Not connected' })
      return stored(chatId, body, ++seq)
    })
    const s = useMessagesStore()
    await s.load('c1')
    const first = s.send('c1', { content: 'one' })
    const second = s.send('c1', { content: 'two' })
    await vi.advanceTimersByTimeAsync(0)
    expect(s.outbox.map((i) => i.state)).toEqual(['queued', 'queued'])
    // The queue survives a reload.
    expect(JSON.parse(localStorage.getItem(`whisper.outbox.${ME.id}`)!)).toHaveLength(2)

    fail = false
    await vi.advanceTimersByTimeAsync(5_000)
    expect(s.outbox).toHaveLength(0)
    const ids = hub.sendMessage.mock.calls.map(([, body]) => body.clientMessageId)
    expect(ids[0]).toBe(first.clientMessageId)
    expect(new Set(ids)).toEqual(new Set([first.clientMessageId, second.clientMessageId]))
    expect(s.byChat.c1!.items.map((m) => m.content)).toEqual(['one', 'two'])
    expect(localStorage.getItem(`whisper.outbox.${ME.id}`)).toBeNull()
  })

  it('drops the pending copy when the echo arrives before the answer', async () => {
    mockFetch(() => jsonResponse(200, { items: [], hasMore: false }))
    const s = useMessagesStore()
    await s.load('c1')
    let answer!: (m: Message) => void
    hub.sendMessage.mockImplementation(() => new Promise<Message>((r) => (answer = r)))
    const item = s.send('c1', { content: 'hi' })
    await vi.waitFor(() => expect(hub.sendMessage).toHaveBeenCalled())
    const m = stored('c1', hub.sendMessage.mock.calls[0]![1], 1)
    await s.onMessageCreated(m) // the hub's messageCreated echo
    expect(s.pendingFor('c1')).toHaveLength(0)
    answer(m)
    await vi.waitFor(() => expect(s.byChat.c1!.items).toHaveLength(1))
    expect(s.byChat.c1!.items[0]!.clientMessageId).toBe(item.clientMessageId)
  })

  it('marks a refused message failed, and a retry reuses its clientMessageId', async () => {
    mockFetch(() => jsonResponse(200, { items: [], hasMore: false }))
    hub.sendMessage.mockRejectedValueOnce(new ApiError(400, { detail: 'Message is too long' }))
    const s = useMessagesStore()
    await s.load('c1')
    const item = s.send('c1', { content: 'x' })
    await vi.waitFor(() => expect(s.outbox[0]!.state).toBe('failed'))
    expect(s.outbox[0]!.error).toBe('Message is too long')
    hub.sendMessage.mockImplementation(async (chatId, body) => stored(chatId, body, 1))
    s.retry(item.clientMessageId)
    await vi.waitFor(() => expect(s.outbox).toHaveLength(0))
    expect(hub.sendMessage.mock.calls.map(([, b]) => b.clientMessageId)).toEqual([item.clientMessageId, item.clientMessageId])
  })

  it('restores a saved outbox, sending items that were in flight again', () => {
    localStorage.setItem(
      `whisper.outbox.${ME.id}`,
      JSON.stringify([{ clientMessageId: 'x1', chatId: 'c1', type: 'text', content: 'a', fileId: null, file: null, replyToId: null, createdAt: '2026-11-23T10:00:00Z', state: 'sending', error: null }]),
    )
    const s = useMessagesStore()
    s.restoreOutbox()
    expect(s.outbox[0]).toMatchObject({ clientMessageId: 'x1', state: 'queued' })
  })
})

describe('messages: receipts', () => {
  it('turns receipt events into ticks on my messages', async () => {
    mockFetch(() =>
      jsonResponse(200, { items: [msg(1, { senderId: ME.id }), msg(2, { senderId: ME.id }), msg(3, { senderId: ME.id })], hasMore: false }),
    )
    const s = useMessagesStore()
    await s.load('c1')
    const status = () => s.byChat.c1!.items.map((m) => s.statusOf(m))
    expect(status()).toEqual(['sent', 'sent', 'sent'])
    s.onReceipt({ chatId: 'c1', userId: 'u-other', status: 'delivered', seq: 3, at: '' })
    expect(status()).toEqual(['delivered', 'delivered', 'delivered'])
    s.onReceipt({ chatId: 'c1', userId: 'u-other', status: 'read', seq: 2, at: '' })
    expect(status()).toEqual(['read', 'read', 'delivered'])
  })

  it('needs every group member for blue ticks', async () => {
    useChatsStore().upsert(chat('g', { type: 'group', members: [member(ME.id), member('b'), member('c')] }))
    mockFetch(() => jsonResponse(200, { items: [msg(1, { chatId: 'g', senderId: ME.id })], hasMore: false }))
    const s = useMessagesStore()
    await s.load('g')
    const m = s.byChat.g!.items[0]!
    s.onReceipt({ chatId: 'g', userId: 'b', status: 'read', seq: 1, at: '' })
    expect(s.statusOf(m)).toBe('sent')
    s.onReceipt({ chatId: 'g', userId: 'c', status: 'delivered', seq: 1, at: '' })
    expect(s.statusOf(m)).toBe('delivered')
    s.onReceipt({ chatId: 'g', userId: 'c', status: 'read', seq: 1, at: '' })
    expect(s.statusOf(m)).toBe('read')
  })

  it('marks arriving messages delivered, once per watermark', async () => {
    mockFetch(() => jsonResponse(200, { items: [msg(1), msg(2)], hasMore: false }))
    const s = useMessagesStore()
    await s.load('c1')
    expect(hub.markDelivered).toHaveBeenCalledWith('c1', 2)
    await s.onMessageCreated(msg(3))
    expect(hub.markDelivered).toHaveBeenLastCalledWith('c1', 3)
    s.deliver('c1', 2)
    expect(hub.markDelivered).toHaveBeenCalledTimes(2)
  })

  it('marks read, updates the unread badge, and never goes back', async () => {
    const chats = useChatsStore()
    chats.upsert(chat('c1', { lastSeq: 3, unreadCount: 3 }))
    mockFetch(() => jsonResponse(200, { items: [msg(1), msg(2), msg(3)], hasMore: false }))
    const s = useMessagesStore()
    await s.load('c1')
    s.read('c1', 2)
    expect(hub.markRead).toHaveBeenCalledWith('c1', 2)
    expect(chats.byId.c1!.unreadCount).toBe(1)
    s.read('c1', 1)
    expect(hub.markRead).toHaveBeenCalledTimes(1)
    s.read('c1', 3)
    expect(chats.byId.c1!.unreadCount).toBe(0)
  })

  it('holds receipts while disconnected and sends them on resync', async () => {
    mockFetch(() => jsonResponse(200, { items: [], hasMore: false }))
    hub.connected = false
    const s = useMessagesStore()
    s.read('c1', 5)
    expect(hub.markRead).not.toHaveBeenCalled()
    hub.connected = true
    await s.resync()
    expect(hub.markRead).toHaveBeenCalledWith('c1', 5)
  })

  it('takes my read mark from my other device without echoing it', () => {
    const chats = useChatsStore()
    chats.upsert(chat('c1', { lastSeq: 4, unreadCount: 2 }))
    const s = useMessagesStore()
    s.onReceipt({ chatId: 'c1', userId: ME.id, status: 'read', seq: 4, at: '' })
    expect(chats.byId.c1!.unreadCount).toBe(0)
    s.read('c1', 4)
    expect(hub.markRead).not.toHaveBeenCalled()
  })
})
