// The one module that owns the SignalR connection: it connects, reconnects, routes server
// events to the stores, and offers the client-to-server calls.
import { HubConnectionBuilder, HubConnectionState, LogLevel, type HubConnection, HttpTransportType } from '@microsoft/signalr'
import { ref } from 'vue'
import { api } from '@/api'
import { ApiError } from '@/api/http'
import type { Chat, Message, ReceiptEvent, SendMessageBody } from '@/api/types'
import { useChatsStore } from '@/stores/chats'
import { useMessagesStore } from '@/stores/messages'
import { usePresenceStore } from '@/stores/presence'
import { useSessionStore } from '@/stores/session'

export type HubState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting'

/** Connection state for the offline banner and for choosing hub or REST. */
export const hubState = ref<HubState>('disconnected')
/** The browser's own idea of being online; the banner also shows when it is false. */
export const browserOnline = ref(typeof navigator === 'undefined' ? true : navigator.onLine)

let connection: HubConnection | null = null
let wanted = false
let retryTimer: ReturnType<typeof setTimeout> | undefined
let retryAttempt = 0
let listenersAdded = false

/** SignalR's own quick retries after a drop; after them it gives up and our slower loop takes over. */
const AUTO_RECONNECT_MS = [0, 2_000, 5_000, 10_000, 20_000]
const MAX_RETRY_MS = 30_000

function build(): HubConnection {
  const session = useSessionStore()
  const conn = new HubConnectionBuilder()
    .withUrl('/hubs/chat', {
      // Called on every (re)connect, so a reconnect after expiry gets a fresh token.
      accessTokenFactory: async () => (await session.getAccessToken()) ?? '',
      // WebSockets straight away: no negotiation request a load balancer could send to another node.
      skipNegotiation: true,
      transport: HttpTransportType.WebSockets,
    })
    .withAutomaticReconnect(AUTO_RECONNECT_MS)
    .configureLogging(LogLevel.Warning)
    .build()

  const chats = useChatsStore()
  const messages = useMessagesStore()
  const presence = usePresenceStore()

  conn.on('messageCreated', (m: Message) => void messages.onMessageCreated(m))
  conn.on('messageUpdated', (m: Message) => {
    messages.onMessageUpdated(m)
  })
  conn.on('receiptUpdated', (e: ReceiptEvent) => {
    messages.onReceipt(e)
  })
  conn.on('presenceChanged', (e: { userId: string; online: boolean | null; lastSeenAt: string | null }) =>
    presence.onPresenceChanged(e),
  )
  conn.on('typing', (e: { chatId: string; userId: string }) => {
    if (e.userId !== session.userId) presence.onTyping(e)
  })
  // Handlers return nothing: SignalR logs an error for a result the server did not ask for.
  conn.on('chatCreated', (c: Chat) => {
    chats.upsert(c, true)
  })
  conn.on('chatUpdated', (c: Chat) => {
    chats.upsert(c, true)
  })
  conn.on('memberRemoved', (e: { chatId: string; userId: string }) => {
    chats.onMemberRemoved(e)
    if (e.userId === session.userId) messages.forget(e.chatId)
  })

  conn.onreconnecting(() => {
    hubState.value = 'reconnecting'
  })
  conn.onreconnected(() => {
    hubState.value = 'connected'
    void onConnected()
  })
  conn.onclose(() => {
    hubState.value = 'disconnected'
    // SignalR's automatic reconnect gave up (or the first connect failed): keep trying ourselves.
    if (wanted) scheduleRetry()
  })
  return conn
}

/** After every (re)connect: catch up on what was missed and send what waited. */
async function onConnected() {
  retryAttempt = 0
  const chats = useChatsStore()
  const messages = useMessagesStore()
  try {
    await chats.load()
  } catch {
    // The list stays as it was; the next reconnect tries again.
  }
  await messages.resync()
}

async function tryConnect() {
  clearTimeout(retryTimer)
  if (!wanted) return
  if (!useSessionStore().isLoggedIn) return
  connection ??= build()
  if (connection.state !== HubConnectionState.Disconnected) return
  hubState.value = 'connecting'
  try {
    await connection.start()
    hubState.value = 'connected'
    await onConnected()
  } catch {
    hubState.value = 'disconnected'
    scheduleRetry()
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer)
  if (!wanted) return
  // Exponential back-off with jitter, so a restarted server is not hit by every client at once.
  const base = Math.min(MAX_RETRY_MS, 1_000 * 2 ** retryAttempt++)
  retryTimer = setTimeout(() => void tryConnect(), base / 2 + Math.random() * (base / 2))
}

/**
 * The network is back: connect now. While SignalR waits between its own reconnect attempts
 * (up to 20 s) it cannot be asked to hurry, so that attempt is cancelled and a fresh start made.
 */
async function reconnectNow() {
  const conn = connection
  if (wanted && conn?.state === HubConnectionState.Reconnecting) {
    await conn.stop().catch(() => undefined)
    if (conn !== connection) return // stopped or replaced meanwhile (logout)
  }
  await tryConnect()
}

function addWindowListeners() {
  if (listenersAdded || typeof window === 'undefined') return
  listenersAdded = true
  window.addEventListener('online', () => {
    browserOnline.value = true
    retryAttempt = 0
    void reconnectNow()
  })
  window.addEventListener('offline', () => {
    browserOnline.value = false
  })
}

export async function startHub(): Promise<void> {
  wanted = true
  addWindowListeners()
  await tryConnect()
}

export async function stopHub(): Promise<void> {
  wanted = false
  clearTimeout(retryTimer)
  const conn = connection
  connection = null
  hubState.value = 'disconnected'
  if (conn) await conn.stop().catch(() => undefined)
}

export function isConnected(): boolean {
  return connection?.state === HubConnectionState.Connected
}

/** A hub error that the server raised on purpose (HubException): a refusal, not worth retrying. */
function fromHubError(e: unknown): unknown {
  const text = e instanceof Error ? e.message : String(e)
  const i = text.indexOf('HubException:')
  if (i >= 0) return new ApiError(400, { detail: text.slice(i + 'HubException:'.length).trim() })
  // Anything else (connection closed mid-call, timeout) is treated like a network failure.
  return new ApiError(0, { title: text })
}

async function invoke<T>(method: string, ...args: unknown[]): Promise<T> {
  if (!connection || !isConnected()) throw new ApiError(0, { title: 'Not connected' })
  try {
    return await connection.invoke<T>(method, ...args)
  } catch (e) {
    throw fromHubError(e)
  }
}

/** Sends over the hub when connected, else over REST; both are idempotent on clientMessageId. */
export function sendMessage(chatId: string, body: SendMessageBody): Promise<Message> {
  return isConnected() ? invoke<Message>('SendMessage', chatId, body) : api.sendMessage(chatId, body)
}

export function markDelivered(chatId: string, seq: number): Promise<void> {
  return invoke('MarkDelivered', chatId, seq)
}

export function markRead(chatId: string, seq: number): Promise<void> {
  return invoke('MarkRead', chatId, seq)
}

/** Best effort: a lost typing notice does not matter. */
export function sendTyping(chatId: string): void {
  if (isConnected()) invoke('Typing', chatId).catch(() => undefined)
}
