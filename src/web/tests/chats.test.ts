import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { compareChats, permissions, useChatsStore } from '@/stores/chats'
import { useSessionStore } from '@/stores/session'
import { ME, chat, jsonResponse, member, mockFetch, msg } from './helpers'

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  useSessionStore().$patch({ user: ME, refreshToken: 'r', accessToken: 'a', expiresAt: Date.now() + 600_000 })
})
afterEach(() => vi.unstubAllGlobals())

describe('chats store', () => {
  it('sorts by latest activity, newest first', () => {
    const s = useChatsStore()
    s.upsert(chat('old', { updatedAt: '2026-11-01T00:00:00Z' }))
    s.upsert(chat('new', { updatedAt: '2026-11-20T00:00:00Z' }))
    s.upsert(chat('mid', { updatedAt: '2026-11-02T00:00:00Z', lastMessage: msg(1, { chatId: 'mid', createdAt: '2026-11-10T00:00:00Z' }) }))
    expect(s.sorted.map((c) => c.id)).toEqual(['new', 'mid', 'old'])
  })

  it('breaks ties by id so the order does not jump', () => {
    const a = chat('a')
    const b = chat('b')
    expect(compareChats(a, b)).toBeLessThan(0)
    expect(compareChats(b, a)).toBeGreaterThan(0)
  })

  it('moves a chat to the top on a new message and counts it unread', () => {
    const s = useChatsStore()
    s.upsert(chat('a', { updatedAt: '2026-11-20T00:00:00Z' }))
    s.upsert(chat('b', { updatedAt: '2026-11-01T00:00:00Z' }))
    s.onMessage(msg(1, { chatId: 'b', createdAt: '2026-11-23T10:00:00Z' }))
    expect(s.sorted[0]!.id).toBe('b')
    expect(s.byId.b!.unreadCount).toBe(1)
    expect(s.byId.b!.lastMessage!.seq).toBe(1)
    expect(s.byId.b!.lastSeq).toBe(1)
    expect(s.totalUnread).toBe(1)
  })

  it('does not count my own messages or the same message twice', () => {
    const s = useChatsStore()
    s.upsert(chat('a'))
    s.onMessage(msg(1, { chatId: 'a', senderId: ME.id }))
    s.onMessage(msg(2, { chatId: 'a' }))
    s.onMessage(msg(2, { chatId: 'a' }))
    expect(s.byId.a!.unreadCount).toBe(1)
  })

  it('keeps the newest preview when an older message or chat payload arrives late', () => {
    const s = useChatsStore()
    s.upsert(chat('a'))
    s.onMessage(msg(5, { chatId: 'a' }))
    s.onMessage(msg(4, { chatId: 'a' }))
    expect(s.byId.a!.lastMessage!.seq).toBe(5)
    s.upsert(chat('a', { lastMessage: msg(3, { chatId: 'a' }), lastSeq: 3 }), true)
    expect(s.byId.a!.lastMessage!.seq).toBe(5)
    expect(s.byId.a!.lastSeq).toBe(5)
  })

  it('keeps my unread count and takes my role from the member list on chatUpdated', () => {
    const s = useChatsStore()
    s.upsert(chat('g', { type: 'group', unreadCount: 4, myRole: 'member', members: [member(ME.id), member('x', 'owner')] }))
    s.upsert(chat('g', { type: 'group', name: 'Renamed', unreadCount: 0, myRole: 'owner', members: [member(ME.id, 'admin'), member('x', 'owner')] }), true)
    expect(s.byId.g!.name).toBe('Renamed')
    expect(s.byId.g!.unreadCount).toBe(4)
    expect(s.byId.g!.myRole).toBe('admin')
  })

  it('updates the preview when the last message is edited or deleted', () => {
    const s = useChatsStore()
    s.upsert(chat('a'))
    s.onMessage(msg(1, { chatId: 'a' }))
    s.onMessageUpdated(msg(1, { chatId: 'a', content: null, deletedAt: '2026-11-23T12:00:00Z' }))
    expect(s.byId.a!.lastMessage!.deletedAt).not.toBeNull()
  })

  it('drops a chat when I am removed, and a member when someone else is', () => {
    const s = useChatsStore()
    s.upsert(chat('g', { type: 'group', members: [member(ME.id), member('x'), member('y')] }))
    s.activeChatId = 'g'
    s.onMemberRemoved({ chatId: 'g', userId: 'x' })
    expect(s.byId.g!.members.map((m) => m.userId)).toEqual([ME.id, 'y'])
    s.onMemberRemoved({ chatId: 'g', userId: ME.id })
    expect(s.byId.g).toBeUndefined()
    expect(s.activeChatId).toBeNull()
  })

  it('loads pages with the last updatedAt as cursor', async () => {
    const { calls } = mockFetch((url) =>
      url.includes('before=')
        ? jsonResponse(200, { items: [chat('c', { updatedAt: '2026-10-01T00:00:00Z' })], hasMore: false })
        : jsonResponse(200, {
            items: [chat('a', { updatedAt: '2026-11-03T00:00:00Z' }), chat('b', { updatedAt: '2026-11-02T00:00:00Z' })],
            hasMore: true,
          }),
    )
    const s = useChatsStore()
    await s.load()
    expect(s.hasMore).toBe(true)
    await s.loadMore()
    expect(calls[1]!.url).toBe('/api/chats?limit=50&before=2026-11-02T00%3A00%3A00Z')
    expect(s.sorted.map((c) => c.id)).toEqual(['a', 'b', 'c'])
    expect(s.hasMore).toBe(false)
  })

  it('starts a direct chat through the API', async () => {
    const { calls } = mockFetch(() => jsonResponse(201, chat('d')))
    const s = useChatsStore()
    const c = await s.openDirect('u-other')
    expect(calls[0]).toMatchObject({ url: '/api/chats', method: 'POST', body: { type: 'direct', userId: 'u-other' } })
    expect(s.byId[c.id]).toBeDefined()
  })
})

describe('group permissions', () => {
  const group = (myRole: 'owner' | 'admin' | 'member') => chat('g', { type: 'group', myRole })
  it('lets the owner do everything but remove the owner', () => {
    const p = permissions(group('owner'))
    expect([p.rename, p.addMembers, p.changeRoles, p.leave]).toEqual([true, true, true, true])
    expect(p.removeMember('admin')).toBe(true)
    expect(p.removeMember('owner')).toBe(false)
  })
  it('lets admins manage members but not roles', () => {
    const p = permissions(group('admin'))
    expect([p.rename, p.addMembers, p.changeRoles]).toEqual([true, true, false])
    expect(p.removeMember('member')).toBe(true)
    expect(p.removeMember('owner')).toBe(false)
  })
  it('lets members only leave', () => {
    const p = permissions(group('member'))
    expect([p.rename, p.addMembers, p.changeRoles, p.leave, p.removeMember('member')]).toEqual([false, false, false, true, false])
  })
  it('offers nothing of this in a direct chat', () => {
    const p = permissions(chat('d', { myRole: 'owner' }))
    expect([p.rename, p.addMembers, p.changeRoles, p.leave]).toEqual([false, false, false, false])
  })
})
