import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { api, uploadFile } from '@/api'
import { isTransient } from '@/api/http'
import type { FileInfo, Message, MessageType, ReceiptEvent, SendMessageBody, TickStatus } from '@/api/types'
import { newClientMessageId } from '@/lib/ids'
import { mergeMessages } from '@/lib/messages'
import { applyReceipt, effectiveStatus, inferWatermarks, type Watermarks } from '@/lib/receipts'
import { messageTypeFor } from '@/lib/files'
import * as hub from '@/realtime/hub'
import { useChatsStore } from './chats'
import { usePresenceStore } from './presence'
import { useSessionStore } from './session'

export const PAGE_SIZE = 50
/** Pages fetched to catch up after being offline before giving up and reloading the newest page. */
const MAX_CATCH_UP_PAGES = 10
const MAX_FLUSH_DELAY_MS = 30_000

/** A message typed (or an upload finished) but not yet confirmed by the server. */
export interface OutboxItem {
  /** Generated once when queued, so every retry is recognised by the server as the same send. */
  clientMessageId: string
  chatId: string
  type: MessageType
  content: string | null
  fileId: string | null
  file: FileInfo | null
  replyToId: string | null
  createdAt: string
  state: 'queued' | 'sending' | 'failed'
  error: string | null
}

export interface ChatMessages {
  /** Confirmed messages, ascending by seq, a contiguous range ending at the newest known. */
  items: Message[]
  loaded: boolean
  hasMoreBefore: boolean
  loadingOlder: boolean
  /** Receipt watermarks of the other members, for the ticks on my messages. */
  watermarks: Watermarks
}

export interface UploadState {
  id: string
  chatId: string
  name: string
  size: number
  progress: number
  error: string | null
  abort: () => void
}

/** My own receipt watermarks per chat: what I have reached and what the server has been told. */
interface MyMarks {
  delivered: number
  read: number
  toldDelivered: number
  toldRead: number
}

export const useMessagesStore = defineStore('messages', () => {
  const byChat = reactive<Record<string, ChatMessages>>({})
  const outbox = ref<OutboxItem[]>([])
  const uploads = ref<UploadState[]>([])
  const mine: Record<string, MyMarks> = {}

  const session = useSessionStore()
  const chats = useChatsStore()

  function chatState(chatId: string): ChatMessages {
    return (byChat[chatId] ??= { items: [], loaded: false, hasMoreBefore: true, loadingOlder: false, watermarks: {} })
  }

  function marks(chatId: string): MyMarks {
    return (mine[chatId] ??= { delivered: 0, read: 0, toldDelivered: 0, toldRead: 0 })
  }

  function recipients(chatId: string): string[] {
    const me = session.userId
    return (chats.byId[chatId]?.members ?? []).map((m) => m.userId).filter((id) => id !== me)
  }

  function lastSeq(chatId: string): number {
    return byChat[chatId]?.items.at(-1)?.seq ?? 0
  }

  /** The tick of one of my messages, from the server's status and the receipts seen since. */
  function statusOf(m: Message): TickStatus {
    const s = byChat[m.chatId]
    return s ? effectiveStatus(m, recipients(m.chatId), s.watermarks) : m.status
  }

  function findMessage(chatId: string, id: string): Message | undefined {
    return byChat[chatId]?.items.find((m) => m.id === id)
  }

  // ---- loading ---------------------------------------------------------------------------

  function ingestPage(chatId: string, items: Message[]) {
    const s = chatState(chatId)
    s.items = mergeMessages(s.items, items)
    inferWatermarks(items, session.userId, recipients(chatId), s.watermarks)
    for (const m of items) removeFromOutbox(m.clientMessageId, m.senderId)
    const fromOthers = items.filter((m) => m.senderId !== session.userId).at(-1)
    if (fromOthers) deliver(chatId, fromOthers.seq)
  }

  /** Opens a chat: the newest page the first time, afterwards only what is new. */
  async function load(chatId: string): Promise<void> {
    const s = chatState(chatId)
    if (s.loaded) return catchUp(chatId)
    const page = await api.messages(chatId, { limit: PAGE_SIZE })
    ingestPage(chatId, page.items)
    s.hasMoreBefore = page.hasMore
    s.loaded = true
  }

  /** Infinite scroll upwards. */
  async function loadOlder(chatId: string): Promise<number> {
    const s = chatState(chatId)
    if (!s.loaded || !s.hasMoreBefore || s.loadingOlder) return 0
    const first = s.items[0]
    if (!first) return 0
    s.loadingOlder = true
    try {
      const page = await api.messages(chatId, { before: first.seq, limit: PAGE_SIZE })
      ingestPage(chatId, page.items)
      s.hasMoreBefore = page.hasMore
      return page.items.length
    } finally {
      s.loadingOlder = false
    }
  }

  /** Loads older pages until `seq` is in the list (to jump to a search result). */
  async function loadUntil(chatId: string, seq: number): Promise<boolean> {
    const s = chatState(chatId)
    for (let i = 0; i < 40 && s.hasMoreBefore && (s.items[0]?.seq ?? 0) > seq; i++) {
      if ((await loadOlder(chatId)) === 0) break
    }
    return s.items.some((m) => m.seq === seq)
  }

  /** Fetches what was missed since the newest message we have (after a drop or a gap in seq). */
  async function catchUp(chatId: string): Promise<void> {
    const s = chatState(chatId)
    if (!s.loaded) return
    for (let i = 0; i < MAX_CATCH_UP_PAGES; i++) {
      const page = await api.messages(chatId, { after: lastSeq(chatId), limit: PAGE_SIZE * 2 })
      ingestPage(chatId, page.items)
      page.items.forEach((m) => chats.onMessage(m))
      if (!page.hasMore) return
    }
    // Too far behind to page through: start again from the newest page.
    const page = await api.messages(chatId, { limit: PAGE_SIZE })
    s.items = []
    ingestPage(chatId, page.items)
    s.hasMoreBefore = page.hasMore
  }

  /**
   * Receipts given while this device was not connected (or between loading a chat and the hub
   * joining it) were announced to no one here: ask the server how far each recipient got with my
   * newest message that is not yet read by everyone.
   */
  async function refreshReceipts(chatId: string): Promise<void> {
    const s = byChat[chatId]
    if (!s?.loaded) return
    const last = [...s.items].reverse().find((m) => m.senderId === session.userId && !m.deletedAt)
    if (!last || statusOf(last) === 'read') return
    const status = await api.messageStatus(last.id)
    for (const r of status.recipients) {
      if (r.status !== 'sent') applyReceipt(s.watermarks, r.userId, r.status, last.seq)
    }
  }

  /** After (re)connecting: catch up every open chat and its receipts, re-send mine and the outbox. */
  async function resync(): Promise<void> {
    await Promise.all(
      Object.keys(byChat).map((id) =>
        catchUp(id)
          .then(() => refreshReceipts(id))
          .catch(() => undefined),
      ),
    )
    // Chats we only know from the list: their last message reached this device.
    for (const c of chats.sorted) {
      if (c.lastMessage && c.lastMessage.senderId !== session.userId && c.unreadCount > 0) deliver(c.id, c.lastMessage.seq)
    }
    for (const id of Object.keys(mine)) tellServer(id)
    await flushOutbox()
  }

  // ---- live events -------------------------------------------------------------------------

  async function onMessageCreated(m: Message): Promise<void> {
    if (m.senderId === session.userId) removeFromOutbox(m.clientMessageId, m.senderId)
    if (!chats.onMessage(m)) {
      // A chat we did not know yet (e.g. someone started it with us): fetch it for the list.
      try {
        await chats.ensure(m.chatId)
      } catch {
        return
      }
    }
    usePresenceStore().clearTyping(m.chatId, m.senderId)
    const s = byChat[m.chatId]
    if (s?.loaded) {
      if (m.seq > lastSeq(m.chatId) + 1 && s.items.length > 0) await catchUp(m.chatId).catch(() => undefined)
      else ingestPage(m.chatId, [m])
    } else if (m.senderId !== session.userId) {
      deliver(m.chatId, m.seq)
    }
  }

  function onMessageUpdated(m: Message) {
    const s = byChat[m.chatId]
    // Only within the range we hold, so the list stays contiguous.
    if (s?.loaded && s.items.length > 0 && m.seq >= s.items[0]!.seq) s.items = mergeMessages(s.items, [m])
    chats.onMessageUpdated(m)
  }

  function onReceipt(e: ReceiptEvent) {
    if (e.userId === session.userId) {
      // My other device read or received it: do not tell the server again, update the badge.
      const mk = marks(e.chatId)
      if (e.status === 'read') mk.read = mk.toldRead = Math.max(mk.read, e.seq)
      mk.delivered = mk.toldDelivered = Math.max(mk.delivered, e.seq, mk.read)
      recomputeUnread(e.chatId)
      return
    }
    applyReceipt(chatState(e.chatId).watermarks, e.userId, e.status, e.seq)
  }

  // ---- my receipts -----------------------------------------------------------------------------

  /** Messages up to `seq` reached this device. */
  function deliver(chatId: string, seq: number) {
    const mk = marks(chatId)
    if (seq <= mk.delivered) return
    mk.delivered = seq
    tellServer(chatId)
  }

  /** Messages up to `seq` were on screen while the page was visible. */
  function read(chatId: string, seq: number) {
    const mk = marks(chatId)
    if (seq <= mk.read) return
    mk.read = seq
    mk.delivered = Math.max(mk.delivered, seq)
    recomputeUnread(chatId)
    tellServer(chatId)
  }

  /** Sends my watermarks if the hub is up; otherwise they go out on the next connect. */
  function tellServer(chatId: string) {
    if (!hub.isConnected()) return
    const mk = marks(chatId)
    if (mk.read > mk.toldRead) {
      const seq = mk.read
      mk.toldRead = seq
      mk.toldDelivered = Math.max(mk.toldDelivered, seq) // read implies delivered
      hub.markRead(chatId, seq).catch(() => {
        mk.toldRead = Math.min(mk.toldRead, seq - 1)
      })
    } else if (mk.delivered > mk.toldDelivered) {
      const seq = mk.delivered
      mk.toldDelivered = seq
      hub.markDelivered(chatId, seq).catch(() => {
        mk.toldDelivered = Math.min(mk.toldDelivered, seq - 1)
      })
    }
  }

  function recomputeUnread(chatId: string) {
    const chat = chats.byId[chatId]
    if (!chat) return
    const readUpTo = marks(chatId).read
    if (readUpTo >= chat.lastSeq) return chats.setUnread(chatId, 0)
    const s = byChat[chatId]
    // Count exactly only when the loaded range reaches back past the read mark.
    if (s?.loaded && (!s.hasMoreBefore || (s.items[0]?.seq ?? Infinity) <= readUpTo + 1)) {
      const n = s.items.filter((m) => m.seq > readUpTo && m.senderId !== session.userId && !m.deletedAt).length
      chats.setUnread(chatId, n)
    }
  }

  // ---- sending: the outbox -------------------------------------------------------------------

  let flushing = false
  let flushAgain = false
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let flushDelay = 1_000

  function storageKey() {
    return `whisper.outbox.${session.userId}`
  }

  function persist() {
    if (!session.userId) return
    const keep = outbox.value.map((i) => ({ ...i, state: i.state === 'sending' ? 'queued' : i.state }))
    if (keep.length) localStorage.setItem(storageKey(), JSON.stringify(keep))
    else localStorage.removeItem(storageKey())
  }

  /** Restores messages that were waiting to be sent when the page was closed. */
  function restoreOutbox() {
    try {
      const raw = localStorage.getItem(storageKey())
      const items = raw ? (JSON.parse(raw) as OutboxItem[]) : []
      outbox.value = items.map((i) => ({ ...i, state: i.state === 'sending' ? 'queued' : i.state }))
    } catch {
      outbox.value = []
    }
  }

  function removeFromOutbox(clientMessageId: string | null, senderId: string) {
    if (!clientMessageId || senderId !== session.userId) return
    const before = outbox.value.length
    outbox.value = outbox.value.filter((i) => i.clientMessageId !== clientMessageId)
    if (outbox.value.length !== before) persist()
  }

  function pendingFor(chatId: string): OutboxItem[] {
    return outbox.value.filter((i) => i.chatId === chatId)
  }

  /** Queues a message and tries to send it at once. */
  function send(
    chatId: string,
    draft: { content?: string | null; replyToId?: string | null; file?: FileInfo | null },
  ): OutboxItem {
    const file = draft.file ?? null
    const item: OutboxItem = {
      clientMessageId: newClientMessageId(),
      chatId,
      type: file ? messageTypeFor(file.contentType) : 'text',
      content: draft.content?.trim() ? draft.content : null,
      fileId: file?.id ?? null,
      file,
      replyToId: draft.replyToId ?? null,
      createdAt: new Date().toISOString(),
      state: 'queued',
      error: null,
    }
    outbox.value.push(item)
    persist()
    void flushOutbox()
    return item
  }

  function body(i: OutboxItem): SendMessageBody {
    return { clientMessageId: i.clientMessageId, type: i.type, content: i.content, fileId: i.fileId, replyToId: i.replyToId }
  }

  function scheduleFlush() {
    clearTimeout(flushTimer)
    flushTimer = setTimeout(() => void flushOutbox(), flushDelay)
    flushDelay = Math.min(MAX_FLUSH_DELAY_MS, flushDelay * 2)
  }

  /**
   * Sends queued messages one by one, in order. A network failure stops the run and keeps
   * the rest queued for a later try (timer or reconnect); a refusal marks that one failed.
   */
  async function flushOutbox(): Promise<void> {
    if (flushing) {
      flushAgain = true
      return
    }
    flushing = true
    clearTimeout(flushTimer)
    try {
      do {
        flushAgain = false
        for (const item of outbox.value.filter((i) => i.state === 'queued')) {
          if (!outbox.value.includes(item)) continue // confirmed by an echo or discarded meanwhile
          item.state = 'sending'
          try {
            const m = await hub.sendMessage(item.chatId, body(item))
            flushDelay = 1_000
            await onMessageCreated(m)
            removeFromOutbox(item.clientMessageId, session.userId)
          } catch (e) {
            if (isTransient(e)) {
              item.state = 'queued'
              persist()
              scheduleFlush()
              return
            }
            item.state = 'failed'
            item.error = e instanceof Error ? e.message : String(e)
            persist()
          }
        }
      } while (flushAgain)
    } finally {
      flushing = false
    }
  }

  function retry(clientMessageId: string) {
    const item = outbox.value.find((i) => i.clientMessageId === clientMessageId)
    if (!item) return
    item.state = 'queued'
    item.error = null
    persist()
    void flushOutbox()
  }

  function discard(clientMessageId: string) {
    outbox.value = outbox.value.filter((i) => i.clientMessageId !== clientMessageId)
    persist()
  }

  // ---- uploads, edits, deletes -------------------------------------------------------------

  /** Uploads a file with progress, then sends it as a message (with the caption, if any). */
  function upload(chatId: string, file: File, caption?: { content?: string | null; replyToId?: string | null }) {
    const id = newClientMessageId()
    const up = uploadFile(chatId, file, session.getAccessToken, session.refreshAfter401, (p) => {
      const u = uploads.value.find((x) => x.id === id)
      if (u) u.progress = p
    })
    uploads.value.push({ id, chatId, name: file.name, size: file.size, progress: 0, error: null, abort: up.abort })
    up.promise.then(
      (info) => {
        uploads.value = uploads.value.filter((x) => x.id !== id)
        send(chatId, { file: info, content: caption?.content, replyToId: caption?.replyToId })
      },
      (e: unknown) => {
        const u = uploads.value.find((x) => x.id === id)
        if (u) u.error = e instanceof Error ? e.message : String(e)
      },
    )
  }

  function dismissUpload(id: string) {
    const u = uploads.value.find((x) => x.id === id)
    if (u && !u.error) u.abort()
    uploads.value = uploads.value.filter((x) => x.id !== id)
  }

  async function edit(messageId: string, content: string) {
    onMessageUpdated(await api.editMessage(messageId, content))
  }

  async function remove(m: Message) {
    await api.deleteMessage(m.id)
    // The server answers 204; show the tombstone now, the messageUpdated event confirms it.
    onMessageUpdated({ ...m, content: null, file: null, deletedAt: new Date().toISOString() })
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  function forget(chatId: string) {
    delete byChat[chatId]
    delete mine[chatId]
    outbox.value = outbox.value.filter((i) => i.chatId !== chatId)
    persist()
  }

  /** On logout: forget everything, including what was waiting to be sent. */
  function reset(clearStoredOutbox: boolean) {
    if (clearStoredOutbox && session.userId) localStorage.removeItem(storageKey())
    for (const k of Object.keys(byChat)) delete byChat[k]
    for (const k of Object.keys(mine)) delete mine[k]
    outbox.value = []
    uploads.value.forEach((u) => u.abort())
    uploads.value = []
    clearTimeout(flushTimer)
  }

  return {
    byChat, outbox, uploads,
    chatState, statusOf, findMessage, recipients, lastSeq, pendingFor,
    load, loadOlder, loadUntil, catchUp, resync,
    onMessageCreated, onMessageUpdated, onReceipt, deliver, read, myMarks: marks,
    send, flushOutbox, retry, discard, restoreOutbox, upload, dismissUpload, edit, remove, forget, reset,
  }
})
