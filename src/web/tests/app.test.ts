// The whole app mounted in happy-dom against a fake server over REST (the hub stays down),
// as a smoke test of the wiring: login, chat list, history, sending, offline banner.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { ref } from 'vue'
import App from '@/App.vue'
import { router } from '@/router'
import { watchSession } from '@/app'
import { useSessionStore } from '@/stores/session'
import type { SendMessageBody } from '@/api/types'
import { ME, chat, jsonResponse, member, mockFetch, msg, session } from './helpers'

vi.mock('@/realtime/hub', async () => {
  const { api } = await import('@/api')
  return {
    hubState: ref('disconnected'),
    browserOnline: ref(true),
    startHub: vi.fn(async () => {}),
    stopHub: vi.fn(async () => {}),
    isConnected: () => false,
    sendMessage: (chatId: string, body: SendMessageBody) => api.sendMessage(chatId, body),
    markDelivered: vi.fn(async () => {}),
    markRead: vi.fn(async () => {}),
    sendTyping: vi.fn(),
  }
})

beforeEach(() => localStorage.clear())
afterEach(() => vi.unstubAllGlobals())

describe('the app', () => {
  it('logs in, lists chats, shows history literally and sends a message', async () => {
    const bob = member('u-other')
    const c1 = chat('c1', { name: 'Bob', lastSeq: 1, unreadCount: 1, lastMessage: msg(1, { content: '<b>hi</b>' }), members: [member(ME.id), bob] })
    let sent: SendMessageBody | null = null
    const { calls } = mockFetch((url, init) => {
      if (url === '/api/login') return jsonResponse(200, session(1))
      if (url.startsWith('/api/chats?')) return jsonResponse(200, { items: [c1], hasMore: false })
      if (url === '/api/chats/c1/messages?limit=50') return jsonResponse(200, { items: [msg(1, { content: '<b>hi</b>' })], hasMore: false })
      if (url === '/api/users/u-other/last-seen') return jsonResponse(200, { userId: 'u-other', online: true, lastSeenAt: null })
      if (url === '/api/chats/c1/messages' && init.method === 'POST') {
        sent = JSON.parse(String(init.body)) as SendMessageBody
        return jsonResponse(201, msg(2, { senderId: ME.id, content: sent.content, clientMessageId: sent.clientMessageId }))
      }
      return jsonResponse(404, { title: 'Not Found' })
    })

    const div = document.createElement('div')
    document.body.appendChild(div)
    const pinia = createPinia()
    setActivePinia(pinia)
    await useSessionStore().restore()
    const w = mount(App, { global: { plugins: [pinia, router] }, attachTo: div })
    watchSession(router)
    await router.push('/')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('login')

    await w.get('[data-testid="login-username"]').setValue('me')
    await w.get('[data-testid="login-password"]').setValue('password1')
    await w.get('[data-testid="login-form"]').trigger('submit')
    await flushPromises()
    expect(router.currentRoute.value.name).toBe('home')
    expect(w.find('[data-testid="offline-banner"]').exists()).toBe(true)

    const item = w.get('[data-testid="chat-item"]')
    expect(item.attributes('data-chat-name')).toBe('Bob')
    expect(item.get('[data-testid="chat-item-unread"]').text()).toBe('1')

    await router.push('/chats/c1')
    await flushPromises()
    expect(w.get('[data-testid="chat-title"]').text()).toBe('Bob')
    expect(w.get('[data-testid="presence-line"]').text()).toBe('online')
    expect(w.get('[data-testid="message-text"]').text()).toBe('<b>hi</b>')
    expect(w.find('.bubble-text b').exists()).toBe(false)

    const input = w.get('[data-testid="composer-input"]')
    await input.setValue('hello Bob')
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(sent).toMatchObject({ content: 'hello Bob', type: 'text' })
    const mine = w.findAll('[data-testid="message-bubble"][data-mine="true"]')
    expect(mine).toHaveLength(1)
    expect(mine[0]!.attributes('data-status')).toBe('sent')
    expect(calls.every((c) => c.url === '/api/login' || c.auth === 'Bearer access-1')).toBe(true)
    w.unmount()
  })

  it('shows group controls by role and closes the dialog with Esc', async () => {
    localStorage.setItem('whisper.session', JSON.stringify(session(1)))
    const g = chat('g1', {
      type: 'group',
      name: 'Team',
      myRole: 'owner',
      members: [member(ME.id, 'owner'), member('ann', 'admin'), member('ben', 'member')],
    })
    mockFetch((url) => {
      if (url.startsWith('/api/chats?')) return jsonResponse(200, { items: [g], hasMore: false })
      if (url.startsWith('/api/chats/g1/messages')) return jsonResponse(200, { items: [], hasMore: false })
      return jsonResponse(404, {})
    })
    const pinia = createPinia()
    setActivePinia(pinia)
    await useSessionStore().restore()
    const w = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body.appendChild(document.createElement('div')) })
    watchSession(router)
    await router.push('/chats/g1')
    await flushPromises()
    expect(w.get('[data-testid="presence-line"]').text()).toBe('3 members')

    await w.get('[data-testid="chat-info-button"]').trigger('click')
    await flushPromises()
    const row = (u: string) => w.get(`[data-testid="group-member"][data-username="${u}"]`)
    expect(row('ben').find('[data-testid="member-promote"]').exists()).toBe(true)
    expect(row('ann').find('[data-testid="member-demote"]').exists()).toBe(true)
    expect(row('ann').find('[data-testid="member-remove"]').exists()).toBe(true)
    expect(row(ME.id).find('[data-testid="member-remove"]').exists()).toBe(false)
    expect(w.find('[data-testid="group-rename-input"]').exists()).toBe(true)

    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await flushPromises()
    expect(w.find('[data-testid="chat-info-dialog"]').exists()).toBe(false)
    w.unmount()
  })
})
