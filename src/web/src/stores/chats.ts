import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { api } from '@/api'
import type { Chat, Message, Role } from '@/api/types'
import { useSessionStore } from './session'

const PAGE = 50

/** When a chat last saw activity: its newest message, or a change to the chat itself. */
export function activityTime(c: Chat): number {
  const updated = Date.parse(c.updatedAt) || 0
  const last = c.lastMessage ? Date.parse(c.lastMessage.createdAt) || 0 : 0
  return Math.max(updated, last)
}

/** Most recent activity first; ties broken by id so the order is stable. */
export function compareChats(a: Chat, b: Chat): number {
  return activityTime(b) - activityTime(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

export const useChatsStore = defineStore('chats', () => {
  const byId = reactive<Record<string, Chat>>({})
  const hasMore = ref(false)
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<string | null>(null)
  /** The chat shown in the main pane, if any. */
  const activeChatId = ref<string | null>(null)
  /** Pagination cursor: the updatedAt of the oldest chat fetched from the server so far. */
  let cursor: string | undefined

  const sorted = computed(() => Object.values(byId).sort(compareChats))
  const totalUnread = computed(() => Object.values(byId).reduce((n, c) => n + (c.unreadCount || 0), 0))
  const active = computed(() => (activeChatId.value ? byId[activeChatId.value] ?? null : null))

  /**
   * Adds or replaces a chat. `fromEvent` marks chatCreated/chatUpdated payloads, which the server
   * fans out to every member alike, so their per-caller fields (unreadCount) are not trusted.
   */
  function upsert(chat: Chat, fromEvent = false): Chat {
    const old = byId[chat.id]
    const next: Chat = { ...chat, members: chat.members ?? old?.members ?? [] }
    // My role follows the member list, which is right even in a payload built for someone else.
    const me = next.members.find((m) => m.userId === useSessionStore().userId)
    if (me) next.myRole = me.role
    if (fromEvent) next.unreadCount = old?.unreadCount ?? chat.unreadCount ?? 0
    // A chat payload may carry an older lastMessage than one we already received live; keep the newer.
    if (old?.lastMessage && (!next.lastMessage || old.lastMessage.seq > next.lastMessage.seq)) {
      next.lastMessage = old.lastMessage
    }
    next.lastSeq = Math.max(next.lastSeq ?? 0, old?.lastSeq ?? 0, next.lastMessage?.seq ?? 0)
    byId[chat.id] = next
    return byId[chat.id]!
  }

  function remove(chatId: string) {
    delete byId[chatId]
    if (activeChatId.value === chatId) activeChatId.value = null
  }

  /** First page; chats already known beyond it stay (this is also the resync after a reconnect). */
  async function load(): Promise<Chat[]> {
    loading.value = true
    try {
      const page = await api.chats(undefined, PAGE)
      page.items.forEach((c) => upsert(c))
      if (!loaded.value || !cursor) {
        hasMore.value = page.hasMore
        cursor = page.items.at(-1)?.updatedAt
      }
      loaded.value = true
      error.value = null
      return page.items
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
      throw e
    } finally {
      loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!hasMore.value || loading.value || !cursor) return
    loading.value = true
    try {
      const page = await api.chats(cursor, PAGE)
      page.items.forEach((c) => upsert(c))
      hasMore.value = page.hasMore
      cursor = page.items.at(-1)?.updatedAt ?? cursor
    } finally {
      loading.value = false
    }
  }

  /**
   * A new message (live or sent by us): moves the chat up, updates the preview and counts
   * it as unread when it is from someone else. Returns false when the chat is unknown.
   */
  function onMessage(m: Message): boolean {
    const chat = byId[m.chatId]
    if (!chat) return false
    const isNew = m.seq > chat.lastSeq
    if (!chat.lastMessage || m.seq >= chat.lastMessage.seq) chat.lastMessage = m
    chat.lastSeq = Math.max(chat.lastSeq, m.seq)
    if (Date.parse(m.createdAt) > Date.parse(chat.updatedAt)) chat.updatedAt = m.createdAt
    if (isNew && m.senderId !== useSessionStore().userId) chat.unreadCount = (chat.unreadCount || 0) + 1
    return true
  }

  function onMessageUpdated(m: Message) {
    const chat = byId[m.chatId]
    if (chat?.lastMessage?.id === m.id) chat.lastMessage = m
  }

  function onMemberRemoved(e: { chatId: string; userId: string }) {
    if (e.userId === useSessionStore().userId) return remove(e.chatId)
    const chat = byId[e.chatId]
    if (chat) chat.members = chat.members.filter((m) => m.userId !== e.userId)
  }

  function setUnread(chatId: string, n: number) {
    const chat = byId[chatId]
    if (chat) chat.unreadCount = Math.max(0, n)
  }

  async function ensure(chatId: string): Promise<Chat> {
    return byId[chatId] ?? upsert(await api.chat(chatId))
  }

  async function openDirect(userId: string) {
    return upsert(await api.openDirect(userId))
  }
  async function createGroup(name: string, memberIds: string[]) {
    return upsert(await api.createGroup(name, memberIds))
  }
  async function rename(chatId: string, name: string) {
    return upsert(await api.renameChat(chatId, name))
  }
  async function addMembers(chatId: string, userIds: string[]) {
    return upsert(await api.addMembers(chatId, userIds))
  }
  async function removeMember(chatId: string, userId: string) {
    await api.removeMember(chatId, userId)
    onMemberRemoved({ chatId, userId })
  }
  async function setRole(chatId: string, userId: string, role: Exclude<Role, 'owner'>) {
    return upsert(await api.setRole(chatId, userId, role))
  }
  async function leave(chatId: string) {
    await removeMember(chatId, useSessionStore().userId)
  }

  function reset() {
    for (const k of Object.keys(byId)) delete byId[k]
    hasMore.value = false
    loaded.value = false
    activeChatId.value = null
    cursor = undefined
  }

  return {
    byId, sorted, hasMore, loading, loaded, error, activeChatId, active, totalUnread,
    upsert, remove, load, loadMore, onMessage, onMessageUpdated, onMemberRemoved, setUnread, ensure,
    openDirect, createGroup, rename, addMembers, removeMember, setRole, leave, reset,
  }
})

/** The other person of a direct chat. */
export function otherMember(chat: Chat, myId: string) {
  return chat.type === 'direct' ? chat.members.find((m) => m.userId !== myId) ?? null : null
}

/** What the caller may do in a group, following the server's rules. */
export function permissions(chat: Chat) {
  const isGroup = chat.type === 'group'
  const manage = isGroup && (chat.myRole === 'owner' || chat.myRole === 'admin')
  return {
    rename: manage,
    addMembers: manage,
    /** Admins and the owner remove others, but nobody removes the owner. */
    removeMember: (role: Role) => manage && role !== 'owner',
    /** Only the owner promotes and demotes. */
    changeRoles: isGroup && chat.myRole === 'owner',
    leave: isGroup,
  }
}
