import { beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import MessageBubble from '@/components/MessageBubble.vue'
import Composer from '@/components/Composer.vue'
import { useMessagesStore } from '@/stores/messages'
import { useSessionStore } from '@/stores/session'
import { ME, chat, msg } from './helpers'

vi.mock('@/realtime/hub', () => ({
  isConnected: () => false,
  sendMessage: vi.fn(() => new Promise(() => {})),
  markDelivered: vi.fn(),
  markRead: vi.fn(),
  sendTyping: vi.fn(),
}))

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  useSessionStore().$patch({ user: ME, refreshToken: 'r', accessToken: 'a', expiresAt: Date.now() + 600_000 })
})

function bubble(over: Partial<InstanceType<typeof MessageBubble>['$props']> = {}) {
  return mount(MessageBubble, {
    props: {
      message: msg(1),
      mine: false,
      status: '',
      senderName: null,
      replyTo: null,
      replyToName: null,
      hasReply: false,
      canEdit: false,
      canDelete: false,
      canReadBy: false,
      ...over,
    },
  })
}

describe('MessageBubble', () => {
  it('shows stored HTML and script as literal text', () => {
    const evil = '<img src=x onerror="alert(1)"><script>alert(2)</script><b>bold</b>'
    const w = bubble({ message: msg(1, { content: evil }) })
    const text = w.get('[data-testid="message-text"]')
    expect(text.text()).toBe(evil)
    expect(text.element.querySelector('img, script, b')).toBeNull()
  })

  it('exposes the tick state on my messages', () => {
    for (const status of ['sent', 'delivered', 'read', 'pending', 'failed']) {
      const w = bubble({ message: msg(1, { senderId: ME.id }), mine: true, status })
      expect(w.get('[data-testid="message-bubble"]').attributes('data-status')).toBe(status)
      expect(w.get('[data-testid="message-status"]').attributes('data-status')).toBe(status)
    }
    expect(bubble().find('[data-testid="message-status"]').exists()).toBe(false)
  })

  it('shows a tombstone for deleted messages and no actions', () => {
    const w = bubble({ message: msg(1, { content: null, deletedAt: '2026-11-23T12:00:00Z' }) })
    expect(w.get('[data-testid="message-deleted"]').text()).toContain('deleted')
    expect(w.find('[data-testid="message-actions"]').exists()).toBe(false)
  })

  it('asks before deleting', async () => {
    const w = bubble({ mine: true, status: 'sent', canDelete: true, canEdit: true })
    await w.get('[data-testid="message-actions"]').trigger('click')
    await w.get('[data-testid="message-delete"]').trigger('click')
    expect(w.emitted('delete')).toBeUndefined()
    await w.get('[data-testid="message-delete-confirm"]').trigger('click')
    expect(w.emitted('delete')).toHaveLength(1)
  })

  it('shows the quoted message of a reply', () => {
    const w = bubble({ hasReply: true, replyTo: msg(0, { content: 'the original' }), replyToName: 'Bob' })
    expect(w.get('[data-testid="message-quote"]').text()).toContain('the original')
  })
})

describe('Composer', () => {
  function composer() {
    return mount(Composer, { props: { chat: chat('c1'), replyTo: null, editing: null, replyToName: null } })
  }

  it('sends on Enter and keeps Shift+Enter for a new line', async () => {
    const w = composer()
    const messages = useMessagesStore()
    const input = w.get('[data-testid="composer-input"]')
    await input.setValue('line one')
    await input.trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(messages.outbox).toHaveLength(0)
    await input.trigger('keydown', { key: 'Enter' })
    expect(messages.outbox.map((i) => i.content)).toEqual(['line one'])
    expect((input.element as HTMLTextAreaElement).value).toBe('')
  })

  it('does not send blank messages', async () => {
    const w = composer()
    const input = w.get('[data-testid="composer-input"]')
    await input.setValue('   \n ')
    await input.trigger('keydown', { key: 'Enter' })
    expect(useMessagesStore().outbox).toHaveLength(0)
  })

  it('cancels a reply with Esc', async () => {
    const w = mount(Composer, { props: { chat: chat('c1'), replyTo: msg(1), editing: null, replyToName: 'Bob' } })
    expect(w.find('[data-testid="reply-preview"]').exists()).toBe(true)
    await w.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Escape' })
    expect(w.emitted('cancel')).toHaveLength(1)
  })
})
